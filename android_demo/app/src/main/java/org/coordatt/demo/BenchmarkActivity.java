package org.coordatt.demo;

import android.app.Activity;
import android.content.Intent;
import android.graphics.Bitmap;
import android.os.Bundle;
import android.util.Log;
import android.view.WindowManager;
import android.widget.TextView;
import java.io.File;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.artifact.ArtifactFinder;
import org.coordatt.demo.bench.BenchmarkLoop;
import org.coordatt.demo.bench.ResultsDocument;
import org.coordatt.demo.runtime.ModelRunner;
import org.coordatt.demo.runtime.Runners;

/**
 * Benchmark mode, started over adb:
 *
 * <pre>
 * adb shell am start -W -n org.coordatt.demo/.BenchmarkActivity \
 *     --es model_dir /data/local/tmp/coordatt --ei iters 50 --ei warmup 10 --ei threads 4
 * </pre>
 *
 * Runs every .pte/.onnx artifact in model_dir (each with its sidecar) on its runtime, one after
 * another on a background thread. files/benchmark_results.json (results.json schema,
 * docs/formats.md) appears once, atomically, when every artifact has its row, so a poller never
 * reads half a run; files/benchmark_results.partial.json is rewritten after each artifact and
 * keeps the rows so far if a runtime crashes the process. Logs one line per result, tag
 * "coordatt". An artifact that fails gets a row with its error.
 */
public final class BenchmarkActivity extends Activity {

    static final String TAG = "coordatt";
    static final String RESULTS_FILE = "benchmark_results.json";
    static final String PARTIAL_FILE = "benchmark_results.partial.json";

    private final ExecutorService worker = Executors.newSingleThreadExecutor();
    private TextView status;

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        status = new TextView(this);
        setContentView(status);
        // A phone that sleeps mid-run throttles or pauses it.
        getWindow().addFlags(WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON);
        if (savedInstanceState != null) {
            return;  // recreated: the first instance's run is the one that writes results
        }
        Intent intent = getIntent();
        String dirExtra = intent.getStringExtra("model_dir");
        File modelDir = new File(dirExtra != null ? dirExtra : ModelLibrary.PUSH_DIR);
        int iters = intent.getIntExtra("iters", 50);
        int warmup = intent.getIntExtra("warmup", 10);
        int threads = intent.getIntExtra("threads", 1);
        File results = new File(getFilesDir(), RESULTS_FILE);
        File partial = new File(getFilesDir(), PARTIAL_FILE);
        if (iters < 1 || warmup < 0 || threads < 0) {
            fail("need iters >= 1, warmup >= 0, threads >= 0 (0: runtime default); got iters=" + iters
                    + " warmup=" + warmup + " threads=" + threads);
            return;
        }
        // A stale file from an earlier run must not pass for this one's results.
        for (File old : new File[] {results, partial}) {
            if (old.exists() && !old.delete()) {
                fail("cannot remove the old " + old);
                return;
            }
        }
        String start = "benchmark start: model_dir=" + modelDir + " iters=" + iters + " warmup=" + warmup
                + " threads=" + threads + " -> " + results;
        Log.i(TAG, start);
        status.setText(start);
        worker.execute(() -> runAll(modelDir, iters, warmup, threads, results, partial));
        worker.shutdown();
    }

    private void runAll(File modelDir, int iters, int warmup, int threads, File results, File partial) {
        List<Artifact> artifacts = ArtifactFinder.find(modelDir);
        if (artifacts.isEmpty()) {
            Log.w(TAG, "no .pte or .onnx files in " + modelDir + " (pushed with adb? readable by the app?)");
        }
        Map<String, Object> runtimes = DeviceInfo.runtimes();
        ResultsDocument doc = new ResultsDocument(DeviceInfo.machine(runtimes), warmup, iters,
                DeviceInfo.device(), DeviceInfo.deviceInfo(runtimes));
        Bitmap sample = null;
        try {
            sample = BitmapInput.decode(() -> getAssets().open(MainActivity.SAMPLE_ASSET), 256);
        } catch (IOException e) {
            Log.e(TAG, "cannot decode assets/" + MainActivity.SAMPLE_ASSET + ": " + e.getMessage());
        }
        for (int i = 0; i < artifacts.size(); i++) {
            Artifact a = artifacts.get(i);
            Map<String, Object> row = runOne(doc, a, sample, iters, warmup, threads);
            Log.i(TAG, ResultsDocument.summary(row));
            write(partial, doc.toJson(false));
            String progress = (i + 1) + "/" + artifacts.size() + ": " + ResultsDocument.summary(row);
            runOnUiThread(() -> status.setText(progress));
        }
        write(results, doc.toJson(true));
        partial.delete();
        Log.i(TAG, "benchmark done: " + doc.rows().size() + " result(s) in " + results);
        runOnUiThread(this::finish);
    }

    private static Map<String, Object> runOne(ResultsDocument doc, Artifact a, Bitmap sample, int iters,
            int warmup, int threads) {
        if (a.error != null) {
            return doc.addFailed(a, threads, warmup, iters, a.error);
        }
        if (sample == null) {
            return doc.addFailed(a, threads, warmup, iters, "no input image (assets/" + MainActivity.SAMPLE_ASSET + ")");
        }
        ModelRunner runner = null;
        try {
            runner = Runners.create(a.runtime);
            float[] input = BitmapInput.toInput(sample, a.sidecar.preprocess);
            BenchmarkLoop.Measurement m = BenchmarkLoop.measure(runner, a.file, threads, warmup, iters,
                    input, a.sidecar.inputShape, DeviceInfo::pssMb);
            return doc.addMeasured(a, threads, warmup, iters, m);
        } catch (Exception | LinkageError e) {
            String msg = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            return doc.addFailed(a, threads, warmup, iters, msg);
        } finally {
            if (runner != null) {
                runner.close();
            }
        }
    }

    private static void write(File results, String json) {
        try {
            ResultsDocument.writeAtomically(results, json);
        } catch (IOException e) {
            Log.e(TAG, "cannot write " + results + ": " + e.getMessage());
        }
    }

    private void fail(String message) {
        Log.e(TAG, "benchmark not started: " + message);
        status.setText(message);
        worker.shutdown();
    }
}
