package org.coordatt.demo.bench;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.artifact.Json;
import org.coordatt.demo.artifact.Sidecar;

/**
 * benchmark_results.json in the results.json schema of docs/formats.md ({@code coordatt.bench/1}):
 * the same row fields and statistics as coordatt-bench on the host, with source "android-app".
 */
public final class ResultsDocument {

    public static final String SCHEMA = "coordatt.bench/1";
    public static final String SOURCE = "android-app";

    private final Map<String, Object> machine;
    private final Map<String, Object> config;
    private final String device;
    private final Map<String, Object> deviceInfo;
    private final List<Map<String, Object>> rows = new ArrayList<>();

    /**
     * @param machine the results.json machine object (cpu, cores, isa, os, python, versions)
     * @param device the phone's model (Build.MODEL), put in every row
     * @param deviceInfo {soc, abi, android, runtimes}, put in every row
     */
    public ResultsDocument(Map<String, Object> machine, int warmup, int iters, String device,
            Map<String, Object> deviceInfo) {
        this.machine = machine;
        this.config = new LinkedHashMap<>();
        config.put("warmup", warmup);
        config.put("iters", iters);
        // The app runs each artifact's iterations as one block, without interleaving.
        config.put("block_size", iters);
        this.device = device;
        this.deviceInfo = deviceInfo;
    }

    /** Adds the row of an artifact that ran; returns it. */
    public Map<String, Object> addMeasured(Artifact a, int threads, int warmup, int iters,
            BenchmarkLoop.Measurement m) {
        Map<String, Object> row = base(a, threads, warmup, iters);
        row.put("load_ms", m.loadMs);
        row.put("samples_ms", m.samplesMs);
        LatencyStats.of(m.samplesMs).putInto(row);
        row.put("peak_rss_mb", m.peakMemoryMb);
        rows.add(row);
        return row;
    }

    /** Adds the row of an artifact that failed (to load, or to run): null statistics, the error. */
    public Map<String, Object> addFailed(Artifact a, int threads, int warmup, int iters, String error) {
        Map<String, Object> row = base(a, threads, warmup, iters);
        // No timed runs: an empty list, not null, so readers can treat samples_ms as a list always.
        row.put("samples_ms", new double[0]);
        row.put("error", error);
        rows.add(row);
        return row;
    }

    public List<Map<String, Object>> rows() {
        return rows;
    }

    /**
     * The whole document; {@code complete} says whether every artifact has its row (false in the
     * partial file the app rewrites after each artifact).
     */
    public String toJson(boolean complete) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("schema", SCHEMA);
        doc.put("machine", machine);
        doc.put("config", config);
        doc.put("results", rows);
        doc.put("complete", complete);
        return Json.write(doc);
    }

    /** Writes {@code text} to {@code target} atomically: a temp file in the same folder, synced, renamed. */
    public static void writeAtomically(File target, String text) throws IOException {
        File tmp = new File(target.getParentFile(), target.getName() + ".tmp");
        try (FileOutputStream out = new FileOutputStream(tmp)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.getFD().sync();
        }
        Files.move(tmp.toPath(), target.toPath(), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    /** One line for logcat, e.g. "mobilenetv2_ca_100_xnnpack_fp32.pte executorch-xnnpack median 8.01 ms ...". */
    public static String summary(Map<String, Object> row) {
        if (row.get("error") != null) {
            return row.get("artifact") + " " + row.get("runtime") + " FAILED: " + row.get("error");
        }
        return String.format(java.util.Locale.ROOT,
                "%s %s threads=%s load %.1f ms median %.2f ms p90 %.2f ms trimmed_mean %.2f ms pss %s MB",
                row.get("artifact"), row.get("runtime"), row.get("threads"), (Double) row.get("load_ms"),
                (Double) row.get("median_ms"), (Double) row.get("p90_ms"),
                (Double) row.get("trimmed_mean_ms"),
                row.get("peak_rss_mb") == null ? "n/a"
                        : String.format(java.util.Locale.ROOT, "%.1f", (Double) row.get("peak_rss_mb")));
    }

    private Map<String, Object> base(Artifact a, int threads, int warmup, int iters) {
        Sidecar sc = a.sidecar;
        Map<String, Object> row = new LinkedHashMap<>();
        // The sidecar's name (e.g. a fine-tuned "flowers_ca") over its model, which may be a
        // factory spec; width_mult is null for a network without one.
        row.put("model", sc == null ? null : sc.displayModel());
        row.put("width_mult", sc == null ? null : sc.widthMult);
        row.put("input_size", sc == null ? null : new long[] {sc.inputShape[2], sc.inputShape[3]});
        row.put("runtime", a.runtime);
        row.put("precision", sc == null ? null : sc.precision);
        row.put("threads", threads);
        row.put("device", device);
        row.put("device_info", deviceInfo);
        row.put("artifact", a.name());
        row.put("load_ms", null);
        row.put("warmup", warmup);
        row.put("iters", iters);
        // Measured fields stay null until measured; max_abs_diff (vs eager PyTorch) stays null,
        // as the phone has no eager model to compare with. Inserted now for the documented order.
        for (String key : new String[] {"samples_ms", "min_ms", "median_ms", "p90_ms", "mean_ms",
                "trimmed_mean_ms", "std_ms", "peak_rss_mb", "max_abs_diff"}) {
            row.put(key, null);
        }
        row.put("source", SOURCE);
        row.put("error", null);
        return row;
    }
}
