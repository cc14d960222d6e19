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
import java.util.Locale;
import java.util.Map;
import org.coordatt.demo.artifact.Json;
import org.coordatt.demo.artifact.Sidecar;

/**
 * benchmark_results.json in the results.json schema of docs/formats.md ({@code coordatt.bench/1}):
 * the row fields and statistics of coordatt-bench on the host, with source "android-app", plus
 * what only a phone run has (memory against a per-artifact baseline, the phone's conditions, the
 * check verdict, "flagged").
 */
public final class ResultsDocument {

    public static final String SCHEMA = "coordatt.bench/1";
    public static final String SOURCE = "android-app";

    private final Map<String, Object> machine;
    private final Map<String, Object> config;
    private final RunConfig run;
    private final String device;
    private final Map<String, Object> deviceInfo;
    private final List<JobResult> jobs = new ArrayList<>();

    /**
     * @param machine the results.json machine object (cpu, cores, isa, os, python, versions)
     * @param config the run's config object ({@link RunConfig#toJson})
     * @param device the phone's model (Build.MODEL), put in every row
     * @param deviceInfo {soc, abi, android, api_level, runtimes}, put in every row
     */
    public ResultsDocument(Map<String, Object> machine, RunConfig run, Map<String, Object> config, String device,
            Map<String, Object> deviceInfo) {
        this.machine = machine;
        this.run = run;
        this.config = config;
        this.device = device;
        this.deviceInfo = deviceInfo;
    }

    public void add(JobResult job) {
        jobs.add(job);
    }

    public List<JobResult> jobs() {
        return jobs;
    }

    /** Every row, in job order. */
    public List<Map<String, Object>> rows() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (JobResult j : jobs) {
            rows.add(row(j));
        }
        return rows;
    }

    /**
     * The whole document; {@code complete} says whether every job has all its blocks (false in the
     * partial file the app rewrites after each round).
     */
    public String toJson(boolean complete) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("schema", SCHEMA);
        doc.put("machine", machine);
        doc.put("config", config);
        doc.put("results", rows());
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

    /** One line for logcat, e.g. "x.pte executorch-xnnpack threads=1 load 12.0 ms median 8.01 ms ...". */
    public static String summary(Map<String, Object> row) {
        if (row.get("error") != null) {
            return row.get("artifact") + " " + row.get("runtime") + " FAILED: " + row.get("error");
        }
        Object check = row.get("check") instanceof Map ? ((Map<?, ?>) row.get("check")).get("status") : null;
        return String.format(Locale.ROOT,
                "%s %s threads=%s load %.1f ms median %.2f ms p90 %.2f ms trimmed_mean %.2f ms check %s%s",
                row.get("artifact"), row.get("runtime"), row.get("threads"), (Double) row.get("load_ms"),
                (Double) row.get("median_ms"), (Double) row.get("p90_ms"), (Double) row.get("trimmed_mean_ms"),
                check, row.get("flagged") == null ? "" : " FLAGGED " + row.get("flagged"));
    }

    private Map<String, Object> row(JobResult j) {
        Sidecar sc = j.artifact.sidecar;
        Map<String, Object> row = new LinkedHashMap<>();
        // The sidecar's name (e.g. a fine-tuned "flowers_ca") over its model, which may be a
        // factory spec; width_mult is null for a network without one.
        row.put("model", sc == null ? null : sc.displayModel());
        row.put("width_mult", sc == null ? null : sc.widthMult);
        row.put("input_size", sc == null ? null : new long[] {sc.inputShape[2], sc.inputShape[3]});
        row.put("runtime", j.runtime);
        row.put("precision", sc == null ? null : sc.precision);
        row.put("threads", run.threads);
        row.put("device", device);
        row.put("device_info", deviceInfo);
        row.put("artifact", j.artifact.name());
        row.put("load_ms", j.loadMs);
        row.put("warmup", run.warmup);
        row.put("iters", run.iters);
        boolean measured = j.error == null && !j.samplesMs.isEmpty();
        double[] samples = new double[measured ? j.samplesMs.size() : 0];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = j.samplesMs.get(i);
        }
        // No timed runs: an empty list, not null, so readers can treat samples_ms as a list always.
        row.put("samples_ms", samples);
        for (String key : new String[] {"min_ms", "median_ms", "p90_ms", "mean_ms", "trimmed_mean_ms", "std_ms"}) {
            row.put(key, null);
        }
        if (measured) {
            LatencyStats.of(samples).putInto(row);
        }
        // Whole-process PSS at a few moments is not peak RSS: device rows measure "memory" instead.
        row.put("peak_rss_mb", null);
        // vs eager PyTorch: the check file holds eager's logits on the check inputs.
        row.put("max_abs_diff", j.check == null ? null : j.check.maxAbsDiff);
        Map<String, Object> eval = j.eval;
        for (String key : new String[] {"top1", "top5", "top1_agreement", "eval_images", "eval_skipped"}) {
            row.put(key, eval == null ? null : eval.get(key));
        }
        row.put("source", SOURCE);
        row.put("error", j.error);
        row.put("memory", j.memoryJson());
        row.put("conditions", j.conditionsJson());
        row.put("check", j.check == null ? null : j.check.toRow());
        row.put("flagged", j.check == null ? null : j.check.flaggedText());
        return row;
    }
}
