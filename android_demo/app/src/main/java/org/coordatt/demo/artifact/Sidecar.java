package org.coordatt.demo.artifact;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An artifact's JSON sidecar ({@code <artifact>.json}, schema {@code coordatt.artifact/2}, defined
 * in docs/formats.md): what the model is, which runtime runs it, how to preprocess its input and
 * what its classes are called. The app takes every preprocessing number and class name from here
 * and keeps none of its own. Schema /1 sidecars (no class names) are still read.
 */
public final class Sidecar {

    public static final String SCHEMA = "coordatt.artifact/2";
    /** The first schema: labels was the string "imagenet-1k", not the list of names. */
    public static final String SCHEMA_V1 = "coordatt.artifact/1";

    public final String schema;
    public final String artifact;
    public final String format;
    /** A registry name ("mobilenetv2_ca") or a factory spec ("pkg.module:callable"). */
    public final String model;
    /** The artifact's name prefix ("mobilenetv2_ca", or a user's own like "flowers_ca"); null on /1. */
    public final String name;
    /** Null for a network that has no width multiplier (a user's own). */
    public final Double widthMult;
    public final int numClasses;
    public final String backend;
    public final String precision;
    /** The input tensor's shape, e.g. {1, 3, 224, 224} (float32, NCHW, RGB: checked on parse). */
    public final long[] inputShape;
    public final Preprocess preprocess;
    /** numClasses names in class-index order; unnamed for a /1 sidecar. */
    public final Labels labels;
    /** Where the names come from: "imagenet-1k", "file" or "generic"; null if the sidecar omits it. */
    public final String labelsSource;
    public final boolean pretrained;
    public final String weightsSource;
    /** The check file's name beside the artifact, or null (exported before check files). */
    public final String checkFile;
    /** The check file's sha256 (lowercase hex) as the export recorded it, or null. */
    public final String checkSha256;

    /** Resize (cover), center-crop, scale, then (x - mean) / std per RGB channel. */
    public static final class Preprocess {
        public final int resizeH;
        public final int resizeW;
        public final int cropH;
        public final int cropW;
        public final double scale;
        public final double[] mean;
        public final double[] std;

        public Preprocess(int resizeH, int resizeW, int cropH, int cropW, double scale,
                double[] mean, double[] std) {
            this.resizeH = resizeH;
            this.resizeW = resizeW;
            this.cropH = cropH;
            this.cropW = cropW;
            this.scale = scale;
            this.mean = mean;
            this.std = std;
        }
    }

    private Sidecar(Map<String, Object> root) {
        schema = string(root, "schema");
        boolean v1 = SCHEMA_V1.equals(schema);
        if (!v1 && !SCHEMA.equals(schema)) {
            throw new IllegalArgumentException("unknown sidecar schema '" + schema + "'; this app reads "
                    + SCHEMA + " and " + SCHEMA_V1);
        }
        artifact = string(root, "artifact");
        format = string(root, "format");
        model = string(root, "model");
        name = optionalString(root, "name");
        widthMult = optionalNumber(root, "width_mult");
        numClasses = positiveInt(root, "num_classes");
        backend = string(root, "backend");
        precision = string(root, "precision");
        if (v1) {
            labels = Labels.unnamed();
            labelsSource = root.get("labels") instanceof String ? (String) root.get("labels") : null;
        } else {
            labels = Labels.of(names(root, "labels", numClasses));
            labelsSource = optionalString(root, "labels_source");
        }
        // /1 sidecars had output too, but it was optional: check it where present.
        if (!v1 || root.get("output") != null) {
            long[] shape = longs(object(root, "output"), "shape");
            if (shape.length != 2 || shape[1] != numClasses) {
                throw new IllegalArgumentException("output.shape " + java.util.Arrays.toString(shape)
                        + " is not [N, num_classes] with num_classes " + numClasses);
            }
        }

        Map<String, Object> input = object(root, "input");
        inputShape = longs(input, "shape");
        if (inputShape.length != 4 || inputShape[1] != 3) {
            throw new IllegalArgumentException("input.shape must be [N, 3, H, W], got " + java.util.Arrays.toString(inputShape));
        }
        requireValue(input, "dtype", "float32");
        requireValue(input, "layout", "NCHW");
        requireValue(input, "color", "RGB");

        Map<String, Object> pre = object(root, "preprocess");
        long[] resize = longs(pre, "resize");
        long[] crop = longs(pre, "crop");
        double[] mean = doubles(pre, "mean");
        double[] std = doubles(pre, "std");
        if (resize.length != 2 || crop.length != 2 || mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("preprocess needs resize [h, w], crop [h, w], mean [3], std [3]");
        }
        if (crop[0] != inputShape[2] || crop[1] != inputShape[3]) {
            throw new IllegalArgumentException("preprocess.crop " + java.util.Arrays.toString(crop)
                    + " differs from the input's H, W " + java.util.Arrays.toString(inputShape));
        }
        if (resize[0] < crop[0] || resize[1] < crop[1]) {
            throw new IllegalArgumentException("preprocess.resize " + java.util.Arrays.toString(resize)
                    + " is smaller than crop " + java.util.Arrays.toString(crop));
        }
        for (double s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("preprocess.std must be > 0, got " + java.util.Arrays.toString(std));
            }
        }
        preprocess = new Preprocess((int) resize[0], (int) resize[1], (int) crop[0], (int) crop[1],
                number(pre, "scale"), mean, std);

        Object weights = root.get("weights");
        if (weights instanceof Map) {
            Map<?, ?> w = (Map<?, ?>) weights;
            pretrained = Boolean.TRUE.equals(w.get("pretrained"));
            weightsSource = w.get("source") instanceof String ? (String) w.get("source") : null;
        } else {
            pretrained = false;
            weightsSource = null;
        }

        // Optional: sidecars written before check files have no "check" entry.
        Object check = root.get("check");
        if (check instanceof Map) {
            @SuppressWarnings("unchecked")
            Map<String, Object> c = (Map<String, Object>) check;
            checkFile = checkString(c, "file");
            checkSha256 = checkString(c, "sha256");
            if (checkFile.isEmpty() || checkFile.contains("/") || checkFile.equals("..") || checkFile.equals(".")) {
                throw new IllegalArgumentException("sidecar field 'check.file' must be a file name beside the"
                        + " artifact, got '" + checkFile + "'");
            }
        } else {
            checkFile = null;
            checkSha256 = null;
        }
    }

    private static String checkString(Map<String, Object> c, String key) {
        if (!(c.get(key) instanceof String)) {
            throw new IllegalArgumentException("sidecar field 'check." + key + "' must be a string");
        }
        return (String) c.get(key);
    }

    /** @throws IllegalArgumentException naming the missing or wrong field */
    public static Sidecar parse(String json) {
        Object root = Json.parse(json);
        if (!(root instanceof Map)) {
            throw new IllegalArgumentException("sidecar is not a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) root;
        return new Sidecar(map);
    }

    /** The model's name in results rows and on screen: {@code name} if the sidecar has it, else {@code model}. */
    public String displayModel() {
        return name != null ? name : model;
    }

    /**
     * The results-row runtimes for this artifact, first the one the main screen uses:
     * pte+xnnpack executorch-xnnpack[-int8], pte+portable executorch-portable, onnx
     * onnxruntime[-int8] and onnxruntime-xnnpack[-int8] (two rows: CPU and XNNPACK execution
     * providers), tflite litert[-int8].
     *
     * @throws IllegalArgumentException for a combination no runtime in this app runs (e.g. coreml)
     */
    public List<String> runtimes() {
        String suffix = "int8".equals(precision) ? "-int8" : "fp32".equals(precision) ? "" : null;
        if (suffix != null && "onnx".equals(format)) {
            return java.util.Arrays.asList("onnxruntime" + suffix, "onnxruntime-xnnpack" + suffix);
        }
        if (suffix != null && "pte".equals(format) && "xnnpack".equals(backend)) {
            return java.util.Collections.singletonList("executorch-xnnpack" + suffix);
        }
        if ("fp32".equals(precision) && "pte".equals(format) && "portable".equals(backend)) {
            return java.util.Collections.singletonList("executorch-portable");
        }
        if (suffix != null && "tflite".equals(format)) {
            return java.util.Collections.singletonList("litert" + suffix);
        }
        throw new IllegalArgumentException("no runtime in this app for format=" + format
                + " backend=" + backend + " precision=" + precision);
    }

    /** The first of {@link #runtimes()}: the one the main screen classifies with. */
    public String runtime() {
        return runtimes().get(0);
    }

    private static Object field(Map<String, Object> m, String key) {
        if (!m.containsKey(key) || m.get(key) == null) {
            throw new IllegalArgumentException("sidecar field '" + key + "' is missing");
        }
        return m.get(key);
    }

    private static String string(Map<String, Object> m, String key) {
        Object v = field(m, key);
        if (!(v instanceof String)) {
            throw new IllegalArgumentException("sidecar field '" + key + "' must be a string");
        }
        return (String) v;
    }

    private static String optionalString(Map<String, Object> m, String key) {
        return m.get(key) == null ? null : string(m, key);
    }

    private static Double optionalNumber(Map<String, Object> m, String key) {
        return m.get(key) == null ? null : number(m, key);
    }

    private static int positiveInt(Map<String, Object> m, String key) {
        double v = number(m, key);
        if (v != Math.rint(v) || v < 1 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sidecar field '" + key + "' must be a positive integer, got " + Json.write(v));
        }
        return (int) v;
    }

    /** A list of {@code expected} class names (schema /2's labels). */
    private static List<String> names(Map<String, Object> m, String key, int expected) {
        Object v = field(m, key);
        if (!(v instanceof List)) {
            throw new IllegalArgumentException("sidecar field '" + key + "' must be a list of class names (schema "
                    + SCHEMA + "), got " + Json.write(v));
        }
        List<?> list = (List<?>) v;
        List<String> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String)) {
                throw new IllegalArgumentException("sidecar field '" + key + "': class " + i + " is "
                        + Json.write(list.get(i)) + ", not a name");
            }
            out.add((String) list.get(i));
        }
        if (out.size() != expected) {
            throw new IllegalArgumentException("sidecar field '" + key + "' has " + out.size()
                    + " class names but num_classes is " + expected + "; re-export with one name per class");
        }
        return out;
    }

    private static double number(Map<String, Object> m, String key) {
        Object v = field(m, key);
        if (!(v instanceof Number)) {
            throw new IllegalArgumentException("sidecar field '" + key + "' must be a number");
        }
        return ((Number) v).doubleValue();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Map<String, Object> m, String key) {
        Object v = field(m, key);
        if (!(v instanceof Map)) {
            throw new IllegalArgumentException("sidecar field '" + key + "' must be an object");
        }
        return (Map<String, Object>) v;
    }

    private static double[] doubles(Map<String, Object> m, String key) {
        Object v = field(m, key);
        if (!(v instanceof List)) {
            throw new IllegalArgumentException("sidecar field '" + key + "' must be a list of numbers");
        }
        List<?> list = (List<?>) v;
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Number)) {
                throw new IllegalArgumentException("sidecar field '" + key + "' must be a list of numbers");
            }
            out[i] = ((Number) list.get(i)).doubleValue();
        }
        return out;
    }

    private static long[] longs(Map<String, Object> m, String key) {
        double[] d = doubles(m, key);
        long[] out = new long[d.length];
        for (int i = 0; i < d.length; i++) {
            if (d[i] != Math.rint(d[i]) || d[i] <= 0) {
                throw new IllegalArgumentException("sidecar field '" + key + "' must hold positive integers");
            }
            out[i] = (long) d[i];
        }
        return out;
    }

    private static void requireValue(Map<String, Object> m, String key, String expected) {
        Object v = m.get(key);
        if (v != null && !expected.equals(v)) {
            throw new IllegalArgumentException("input." + key + " is '" + v + "'; this app feeds " + expected);
        }
    }
}
