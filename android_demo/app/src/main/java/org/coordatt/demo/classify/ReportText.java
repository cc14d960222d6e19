package org.coordatt.demo.classify;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.artifact.Labels;
import org.coordatt.demo.artifact.Sidecar;

/**
 * The text the main screen shows: a latency table across runtimes, then each model's top-k with
 * the class names of that model's own sidecar.
 */
public final class ReportText {

    public static final String RANDOM_WEIGHTS_NOTE =
            "random weights: predictions are meaningless; export with --weights mbv2_ca.pth";

    private ReportText() {}

    /** A reader's name for a results-row runtime. */
    public static String displayName(String runtime) {
        if (runtime == null) {
            return "?";
        }
        switch (runtime) {
            case "executorch-xnnpack":
                return "ExecuTorch XNNPACK fp32";
            case "executorch-xnnpack-int8":
                return "ExecuTorch XNNPACK int8";
            case "executorch-portable":
                return "ExecuTorch portable";
            case "onnxruntime":
                return "ONNX Runtime CPU";
            default:
                return runtime;
        }
    }

    /** The note for artifacts whose sidecar says weights.pretrained is false, or null if none. */
    public static String weightsWarning(List<Artifact> artifacts) {
        List<String> random = new ArrayList<>();
        for (Artifact a : artifacts) {
            if (a.sidecar != null && !a.sidecar.pretrained) {
                random.add(a.name());
            }
        }
        return random.isEmpty() ? null : RANDOM_WEIGHTS_NOTE + " (" + String.join(", ", random) + ")";
    }

    public static String latencyTable(List<Classifier.Result> results, int runs) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-24s %9s %9s  %s%n", "runtime", "median ms", "load ms", "artifact"));
        for (Classifier.Result r : results) {
            String median = r.latency == null ? "-" : String.format(Locale.ROOT, "%.2f", r.latency.medianMs);
            String load = r.loadMs == null ? "(kept)" : String.format(Locale.ROOT, "%.0f", r.loadMs);
            if (r.error != null) {
                load = "-";
            }
            sb.append(String.format(Locale.ROOT, "%-24s %9s %9s  %s%n",
                    displayName(r.artifact.runtime), median, load, r.artifact.name()));
        }
        sb.append(String.format(Locale.ROOT, "(median of %d runs after warm-up)%n", runs));
        return sb.toString();
    }

    public static final String NO_NAMES_NOTE =
            "no class names in a " + Sidecar.SCHEMA_V1 + " sidecar: re-export with coordatt-export to show them";

    /** "mobilenetv2_ca x1.0, 1000 classes" ("flowers_ca, 10 classes" for a network without a width). */
    public static String describeModel(Sidecar sc) {
        String width = sc.widthMult == null ? "" : " x" + sc.widthMult;
        return sc.displayModel() + width + ", " + sc.numClasses + " classes";
    }

    public static String topK(List<Classifier.Result> results) {
        StringBuilder sb = new StringBuilder();
        for (Classifier.Result r : results) {
            sb.append(displayName(r.artifact.runtime)).append(" - ").append(r.artifact.name()).append('\n');
            if (r.error != null) {
                sb.append("  cannot run: ").append(r.error).append("\n\n");
                continue;
            }
            Labels labels = r.artifact.sidecar.labels;
            sb.append("  ").append(describeModel(r.artifact.sidecar)).append('\n');
            for (int i = 0; i < r.topIndices.length; i++) {
                sb.append(String.format(Locale.ROOT, "  %5.1f%%  %s%n",
                        100 * r.topProbabilities[i], labels.name(r.topIndices[i])));
            }
            if (!labels.isNamed()) {
                sb.append("  (").append(NO_NAMES_NOTE).append(")\n");
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
