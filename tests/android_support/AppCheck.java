// Test support for tests/test_android_compile.py, not part of the app: runs the app's plain-Java
// classes on the JVM and prints JSON for Python to compare. Usage: java AppCheck <command> < input.json
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.artifact.ArtifactFinder;
import org.coordatt.demo.artifact.Json;
import org.coordatt.demo.artifact.Labels;
import org.coordatt.demo.artifact.Preprocessing;
import org.coordatt.demo.artifact.Sidecar;
import org.coordatt.demo.bench.LatencyStats;
import org.coordatt.demo.classify.Classifier;
import org.coordatt.demo.classify.ReportText;
import org.coordatt.demo.runtime.ModelRunner;
import org.coordatt.demo.runtime.Runners;

public final class AppCheck {

    /** A runner that answers every run with the logits given for its model file's name. */
    static final class FixedLogitsRunner implements ModelRunner {
        final String runtime;
        final Map<?, ?> logitsByFile;
        float[] logits;

        FixedLogitsRunner(String runtime, Map<?, ?> logitsByFile) {
            this.runtime = runtime;
            this.logitsByFile = logitsByFile;
        }

        @Override public String runtime() { return runtime; }

        @Override public void load(File model, long[] inputShape, int threads) throws IOException {
            if (!logitsByFile.containsKey(model.getName())) {
                throw new IOException("no logits scripted for " + model.getName());
            }
            double[] d = doubles(logitsByFile.get(model.getName()));
            logits = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                logits[i] = (float) d[i];
            }
        }

        @Override public void setInput(float[] input) {}

        @Override public long run() { return 1000; }

        @Override public float[] output() { return logits.clone(); }

        @Override public void close() {}
    }

    public static void main(String[] args) throws Exception {
        Object in = Json.parse(readStdin());
        Object out;
        switch (args[0]) {
            case "stats": out = stats((List<?>) in); break;
            case "sidecar": out = sidecar((Map<?, ?>) in); break;
            case "preprocess": out = preprocess((Map<?, ?>) in); break;
            case "topk": out = topk((Map<?, ?>) in); break;
            case "classify": out = classify((Map<?, ?>) in); break;
            case "bench": out = BenchCheck.bench((Map<?, ?>) in); break;
            case "check": out = BenchCheck.check((Map<?, ?>) in); break;
            case "eval": out = BenchCheck.eval((Map<?, ?>) in); break;
            case "config": out = BenchCheck.config((Map<?, ?>) in); break;
            default: throw new IllegalArgumentException("unknown command " + args[0]);
        }
        // UTF-8 whatever the locale: class names may be any UTF-8 text.
        PrintStream stdout = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        stdout.println(out instanceof String ? out : Json.write(out));
    }

    static String readStdin() throws IOException {
        InputStream in = System.in;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] b = new byte[8192];
        for (int n = in.read(b); n > 0; n = in.read(b)) {
            buf.write(b, 0, n);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    static double[] doubles(Object list) {
        List<?> l = (List<?>) list;
        double[] d = new double[l.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = ((Number) l.get(i)).doubleValue();
        }
        return d;
    }

    static List<Object> stats(List<?> cases) {
        List<Object> out = new ArrayList<>();
        for (Object c : cases) {
            Map<String, Object> m = new LinkedHashMap<>();
            LatencyStats.of(doubles(c)).putInto(m);
            out.add(m);
        }
        return out;
    }

    /** {"dir": folder}: every artifact there, as the app sees it. */
    static List<Object> sidecar(Map<?, ?> in) {
        List<Object> out = new ArrayList<>();
        for (Artifact a : ArtifactFinder.find(new File((String) in.get("dir")))) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("artifact", a.name());
            m.put("runtime", a.runtime);
            m.put("error", a.error);
            if (a.sidecar != null) {
                Sidecar.Preprocess p = a.sidecar.preprocess;
                m.put("input_shape", a.sidecar.inputShape);
                m.put("resize", new int[] {p.resizeH, p.resizeW});
                m.put("crop", new int[] {p.cropH, p.cropW});
                m.put("scale", p.scale);
                m.put("mean", p.mean);
                m.put("std", p.std);
                m.put("pretrained", a.sidecar.pretrained);
                m.put("schema", a.sidecar.schema);
                m.put("model", a.sidecar.model);
                m.put("name", a.sidecar.name);
                m.put("display_model", a.sidecar.displayModel());
                m.put("width_mult", a.sidecar.widthMult);
                m.put("num_classes", a.sidecar.numClasses);
                m.put("labels_source", a.sidecar.labelsSource);
                List<String> names = new ArrayList<>();
                for (int i = 0; i < a.sidecar.labels.size(); i++) {
                    names.add(a.sidecar.labels.name(i));
                }
                m.put("labels", names);
                m.put("runtimes", a.runtimes);
                List<String> runners = new ArrayList<>();
                for (String r : a.runtimes) {
                    runners.add(Runners.create(r).getClass().getSimpleName());
                }
                m.put("runners", runners);
                m.put("check_file", a.sidecar.checkFile);
            }
            out.add(m);
        }
        return out;
    }

    /** {"sidecar": path, "w", "h", "argb": [...], "sizes": [[w, h], ...]}. */
    static Map<String, Object> preprocess(Map<?, ?> in) throws IOException {
        Sidecar sc = Sidecar.parse(new String(java.nio.file.Files.readAllBytes(
                new File((String) in.get("sidecar")).toPath()), StandardCharsets.UTF_8));
        Sidecar.Preprocess p = sc.preprocess;
        Map<String, Object> out = new LinkedHashMap<>();
        List<Object> geometry = new ArrayList<>();
        for (Object size : (List<?>) in.get("sizes")) {
            double[] wh = doubles(size);
            int[] cover = Preprocessing.coverSize((int) wh[0], (int) wh[1], p.resizeW, p.resizeH);
            int[] origin = Preprocessing.centerCropOrigin(cover[0], cover[1], p.cropW, p.cropH);
            geometry.add(new int[] {cover[0], cover[1], origin[0], origin[1]});
        }
        out.put("geometry", geometry);
        double[] px = doubles(in.get("argb"));
        int[] argb = new int[px.length];
        for (int i = 0; i < argb.length; i++) {
            argb[i] = (int) (long) px[i];
        }
        int w = ((Number) in.get("w")).intValue();
        int h = ((Number) in.get("h")).intValue();
        out.put("nchw", Preprocessing.toNchw(argb, w, h, p));
        return out;
    }

    static Map<String, Object> topk(Map<?, ?> in) {
        double[] d = doubles(in.get("logits"));
        float[] logits = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            logits[i] = (float) d[i];
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("top", Labels.topK(logits, ((Number) in.get("k")).intValue()));
        out.put("softmax", Labels.softmax(logits));
        return out;
    }

    /**
     * {"dir", "k", "logits": {artifact name: [...]}}: the main screen's classifier and top-k text
     * for every artifact in dir, with runners that answer the given logits.
     */
    static Map<String, Object> classify(Map<?, ?> in) {
        Map<?, ?> logits = (Map<?, ?>) in.get("logits");
        List<Artifact> artifacts = ArtifactFinder.find(new File((String) in.get("dir")));
        List<Classifier.Result> results;
        try (Classifier classifier = new Classifier(1, 1, 2, runtime -> new FixedLogitsRunner(runtime, logits))) {
            results = classifier.classifyAll(artifacts,
                    p -> new float[3 * p.cropH * p.cropW], ((Number) in.get("k")).intValue());
        }
        List<Object> rows = new ArrayList<>();
        for (Classifier.Result r : results) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("artifact", r.artifact.name());
            m.put("error", r.error);
            m.put("top", r.topIndices);
            rows.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("results", rows);
        out.put("text", ReportText.topK(results));
        return out;
    }
}
