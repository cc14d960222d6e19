package org.coordatt.demo;

import android.app.Activity;
import android.content.Intent;
import android.graphics.Bitmap;
import android.os.Build;
import android.os.Bundle;
import android.util.Log;
import android.view.WindowManager;
import android.widget.TextView;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.artifact.ArtifactFinder;
import org.coordatt.demo.artifact.Sidecar;
import org.coordatt.demo.bench.BenchmarkRun;
import org.coordatt.demo.bench.JobResult;
import org.coordatt.demo.bench.ResultsDocument;
import org.coordatt.demo.bench.RunConfig;
import org.coordatt.demo.eval.EvalLabels;
import org.coordatt.demo.runtime.Runners;

/**
 * Benchmark mode, started by coordatt-bench --device android (or by hand) from the adb shell:
 *
 * <pre>
 * adb shell am start -S -W -n org.coordatt.demo/.BenchmarkActivity \
 *     --es model_dir /data/local/tmp/coordatt --es run_id $(uuidgen | tr -d -) \
 *     --ei iters 50 --ei warmup 10 --ei threads 1 --ei rounds 5 --ei cooldown_ms 0
 * </pre>
 *
 * (optional: {@code --es runtimes a,b}, {@code --es eval_dir DIR}). The contract with the harness
 * is docs/formats.md "Android benchmark run". At start, before anything else, it deletes the old
 * results, partial and failed files; one run per process (a second start while one runs is
 * refused). Runs {@link BenchmarkRun} on a background thread, the screen kept on: every artifact's
 * check file first, then round-robin blocks. files/benchmark_results.partial.json is rewritten
 * after each round; files/benchmark_results.json appears once, atomically, at the end, with
 * config.run_id. A run that cannot start or cannot write its results ends with
 * files/benchmark_failed.txt and the logcat line {@code coordatt-bench: FAILED <reason>}, so the
 * harness stops waiting.
 *
 * <p>Only the shell may start it: the manifest protects it with android.permission.DUMP.
 */
public final class BenchmarkActivity extends Activity {

    static final String TAG = "coordatt";
    static final String RESULTS_FILE = "benchmark_results.json";
    static final String PARTIAL_FILE = "benchmark_results.partial.json";
    static final String FAILED_FILE = "benchmark_failed.txt";
    /** One run per process: a second would share ExecuTorch's process-wide threadpool with the first. */
    private static final AtomicBoolean RUNNING = new AtomicBoolean();

    private TextView status;
    private PhoneState phone;

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        status = new TextView(this);
        setContentView(status);
        keepScreenOn();
        phone = new PhoneState(this);
        if (savedInstanceState != null) {
            return;  // recreated: the first instance's run is the one that writes results
        }
        Intent intent = getIntent();
        String runId = intent.getStringExtra("run_id");
        if (!RUNNING.compareAndSet(false, true)) {
            // Leave the running run's files alone; tell the harness waiting for this run_id.
            failed(runId, "another benchmark run is in progress in this process; start with am start -S");
            finish();
            return;
        }
        File files = getFilesDir();
        // A stale file from an earlier run must never pass for this one's, whatever happens next.
        for (String name : new String[] {RESULTS_FILE, PARTIAL_FILE, FAILED_FILE, RESULTS_FILE + ".tmp",
                PARTIAL_FILE + ".tmp"}) {
            File old = new File(files, name);
            if (old.exists() && !old.delete()) {
                failedAndRelease(runId, "cannot remove the old " + old);
                return;
            }
        }
        RunConfig config;
        try {
            String dir = intent.getStringExtra("model_dir");
            config = RunConfig.of(dir != null ? dir : ModelLibrary.PUSH_DIR,
                    runId != null ? runId : UUID.randomUUID().toString().replace("-", ""),
                    intent.getIntExtra("iters", 50), intent.getIntExtra("warmup", 10),
                    intent.getIntExtra("threads", 1), intent.getIntExtra("rounds", -1),
                    intent.getIntExtra("cooldown_ms", 0), intent.getStringExtra("runtimes"),
                    intent.getStringExtra("eval_dir"));
        } catch (IllegalArgumentException e) {
            failedAndRelease(runId, e.getMessage());
            return;
        }
        String start = "benchmark start: run_id=" + config.runId + " model_dir=" + config.modelDir + " iters="
                + config.iters + " warmup=" + config.warmup + " threads=" + config.threads + " rounds="
                + config.rounds + " cooldown_ms=" + config.cooldownMs;
        Log.i(TAG, start);
        status.setText(start);
        Thread worker = new Thread(() -> {
            try {
                runAll(config);
            } finally {
                RUNNING.set(false);
                runOnUiThread(this::finish);
            }
        }, "coordatt-benchmark");
        worker.start();
    }

    @Override
    protected void onResume() {
        super.onResume();
        phone.onResume();
    }

    @Override
    protected void onPause() {
        phone.onPause();
        super.onPause();
    }

    /** A phone that sleeps or locks mid-run throttles or pauses it: keep it awake and shown. */
    @SuppressWarnings("deprecation")
    private void keepScreenOn() {
        getWindow().addFlags(WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON);
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O_MR1) {
            setShowWhenLocked(true);
            setTurnScreenOn(true);
        } else {
            getWindow().addFlags(WindowManager.LayoutParams.FLAG_SHOW_WHEN_LOCKED
                    | WindowManager.LayoutParams.FLAG_TURN_SCREEN_ON);
        }
    }

    private void runAll(RunConfig config) {
        File modelDir = new File(config.modelDir);
        if (!modelDir.canRead()) {
            failed(config.runId, modelDir + " is not readable by the app: adb shell chmod -R o+rX " + modelDir);
            return;
        }
        List<Artifact> artifacts = ArtifactFinder.find(modelDir);
        if (artifacts.isEmpty()) {
            failed(config.runId, "no .pte, .onnx or .tflite files in " + modelDir
                    + " (pushed with adb? readable by the app: adb shell chmod -R o+rX " + modelDir + ")");
            return;
        }
        BenchmarkRun.EvalImages eval = null;
        Map<String, Object> evalConfig = null;
        if (config.evalDir != null) {
            try {
                eval = evalImages(new File(config.evalDir));
            } catch (IOException | IllegalArgumentException e) {
                failed(config.runId, "eval_dir " + config.evalDir + ": " + e.getMessage());
                return;
            }
            evalConfig = new LinkedHashMap<>();
            evalConfig.put("dir", config.evalDir);
            evalConfig.put("images", eval.entries().size());
        }
        Bitmap sample;
        try {
            sample = BitmapInput.decode(() -> getAssets().open(MainActivity.SAMPLE_ASSET), 256);
        } catch (IOException e) {
            failed(config.runId, "cannot decode assets/" + MainActivity.SAMPLE_ASSET + ": " + e.getMessage());
            return;
        }
        // The main screen's classifier must not infer while a run measures.
        try {
            if (!ModelLibrary.INFERENCE.tryAcquire(60, TimeUnit.SECONDS)) {
                failed(config.runId, "the main screen kept the runtimes busy for 60 s");
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed(config.runId, "interrupted");
            return;
        }
        try {
            measure(config, artifacts, sample, eval, evalConfig);
        } finally {
            ModelLibrary.INFERENCE.release();
        }
    }

    private void measure(RunConfig config, List<Artifact> artifacts, Bitmap sample, BenchmarkRun.EvalImages eval,
            Map<String, Object> evalConfig) {
        File files = getFilesDir();
        Map<String, Object> runtimes = DeviceInfo.runtimes();
        ResultsDocument doc = new ResultsDocument(DeviceInfo.machine(runtimes), config, config.toJson(evalConfig),
                DeviceInfo.device(), DeviceInfo.deviceInfo(runtimes));
        BenchmarkRun.Platform platform = new BenchmarkRun.Platform() {
            @Override public void gc() {
                Runtime.getRuntime().gc();
                System.runFinalization();
                Runtime.getRuntime().gc();
            }
            @Override public Double pssMb() { return DeviceInfo.pssMb(); }
            @Override public Double nativeHeapMb() { return DeviceInfo.nativeHeapMb(); }
            @Override public JobResult.Conditions conditions() { return phone.read(); }
            @Override public void sleep(long millis) throws InterruptedException { Thread.sleep(millis); }
            @Override public float[] timingInput(Sidecar.Preprocess p) { return BitmapInput.toInput(sample, p); }
        };
        BenchmarkRun run = new BenchmarkRun(config, Runners::create, platform, eval);
        for (JobResult job : run.jobs(artifacts)) {
            doc.add(job);
        }
        try {
            if (!phone.awaitForeground(5000)) {
                Log.w(TAG, "the benchmark activity is not in the foreground (screen off or locked?):"
                        + " its rows will say foreground=false");
            }
            phone.read();  // the foreground baseline
            run.run(doc, (round, d) -> {
                write(new File(files, PARTIAL_FILE), d.toJson(false));
                String progress = "round " + (round + 1) + "/" + config.rounds + " done";
                Log.i(TAG, progress);
                runOnUiThread(() -> status.setText(progress));
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed(config.runId, "interrupted while waiting (foreground or cool-down)");
            return;
        }
        for (Map<String, Object> row : doc.rows()) {
            Log.i(TAG, ResultsDocument.summary(row));
        }
        File results = new File(files, RESULTS_FILE);
        try {
            ResultsDocument.writeAtomically(results, doc.toJson(true));
        } catch (IOException | RuntimeException e) {
            failed(config.runId, "cannot write " + results + ": " + e.getMessage());
            return;
        }
        new File(files, PARTIAL_FILE).delete();
        Log.i(TAG, "benchmark done: run_id=" + config.runId + ", " + doc.jobs().size() + " row(s) in " + results);
    }

    /** The eval folder's labelled images; each decoded and preprocessed when asked, never kept. */
    private static BenchmarkRun.EvalImages evalImages(File dir) throws IOException {
        File csv = new File(dir, EvalLabels.FILE_NAME);
        List<EvalLabels.Entry> entries = EvalLabels.parse(
                new String(Files.readAllBytes(csv.toPath()), StandardCharsets.UTF_8));
        return new BenchmarkRun.EvalImages() {
            @Override public List<EvalLabels.Entry> entries() { return entries; }
            @Override public float[] input(EvalLabels.Entry e, Sidecar.Preprocess p) throws IOException {
                File image = new File(dir, e.file);
                Bitmap bitmap = BitmapInput.decode(() -> new FileInputStream(image), Math.min(p.resizeH, p.resizeW));
                try {
                    return BitmapInput.toInput(bitmap, p);
                } finally {
                    bitmap.recycle();
                }
            }
        };
    }

    private static void write(File file, String json) {
        try {
            ResultsDocument.writeAtomically(file, json);
        } catch (IOException e) {
            Log.e(TAG, "cannot write " + file + ": " + e.getMessage());
        }
    }

    private void failedAndRelease(String runId, String reason) {
        RUNNING.set(false);
        failed(runId, reason);
        finish();
    }

    /** Ends a run the harness waits for: a logcat line and files/benchmark_failed.txt. */
    private void failed(String runId, String reason) {
        Log.e(TAG, "coordatt-bench: FAILED " + reason);
        File file = new File(getFilesDir(), FAILED_FILE);
        try {
            ResultsDocument.writeAtomically(file, "run_id " + runId + "\n" + reason + "\n");
        } catch (IOException e) {
            Log.e(TAG, "cannot write " + file + ": " + e.getMessage());
        }
        runOnUiThread(() -> status.setText("FAILED: " + reason));
    }
}
