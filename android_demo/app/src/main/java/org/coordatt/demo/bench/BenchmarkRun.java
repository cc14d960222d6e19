package org.coordatt.demo.bench;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.artifact.Sidecar;
import org.coordatt.demo.check.CheckFile;
import org.coordatt.demo.check.CheckVerdict;
import org.coordatt.demo.eval.EvalLabels;
import org.coordatt.demo.eval.EvalTally;
import org.coordatt.demo.runtime.ModelRunner;

/**
 * One benchmark run, with the one measuring method of docs/formats.md: each (artifact, runtime)
 * job gets {@code iters} timed runs in {@code rounds} blocks, interleaved round-robin across jobs
 * with a cool-down between blocks. Each block loads the model afresh (after the previous model is
 * closed and a GC, so memory is measured against a baseline taken just before this load), runs
 * {@code warmup} untimed, then its timed runs on System.nanoTime, and closes it. The first block
 * also runs the check file (before any timing) and, with an eval folder, the labelled images.
 *
 * <p>Plain Java: the Android side supplies a {@link Platform} (memory, conditions, the decoded
 * sample image) and {@link EvalImages}.
 */
public final class BenchmarkRun {

    /** What the phone provides. */
    public interface Platform {
        /** Collects garbage before a memory baseline. */
        void gc();

        /** The process's total PSS in MB, or null where unreadable. */
        Double pssMb();

        /** Native heap allocated in MB, or null. */
        Double nativeHeapMb();

        /** The phone now (thermal, battery, screen, foreground since the previous call). */
        JobResult.Conditions conditions();

        void sleep(long millis) throws InterruptedException;

        /** The timing input (the bundled photo) preprocessed as {@code p} says. */
        float[] timingInput(Sidecar.Preprocess p) throws IOException;
    }

    /** The labelled images of an eval folder. */
    public interface EvalImages {
        List<EvalLabels.Entry> entries();

        /** The image of {@code e} preprocessed as {@code p} says; IOException if undecodable. */
        float[] input(EvalLabels.Entry e, Sidecar.Preprocess p) throws IOException;
    }

    /** Makes a new, unloaded runner for a runtime name. */
    public interface RunnerFactory {
        ModelRunner create(String runtime);
    }

    /** Told after each round (write the partial file) and after each finished job. */
    public interface Listener {
        void roundDone(int round, ResultsDocument doc);
    }

    private final RunConfig config;
    private final RunnerFactory runners;
    private final Platform platform;
    private final EvalImages evalImages;
    private final Map<JobResult, float[]> timingInputs = new HashMap<>();

    public BenchmarkRun(RunConfig config, RunnerFactory runners, Platform platform, EvalImages evalImages) {
        this.config = config;
        this.runners = runners;
        this.platform = platform;
        this.evalImages = evalImages;
    }

    /** The jobs for these artifacts: one per runtime that runs each (an .onnx has two), filtered by config. */
    public List<JobResult> jobs(List<Artifact> artifacts) {
        List<JobResult> jobs = new ArrayList<>();
        for (Artifact a : artifacts) {
            if (a.error != null) {
                if (config.runtimes.isEmpty()) {
                    jobs.add(new JobResult(a, null, a.error));
                }
                continue;
            }
            for (String runtime : a.runtimes) {
                if (config.wants(runtime)) {
                    jobs.add(new JobResult(a, runtime, null));
                }
            }
        }
        return jobs;
    }

    /** Runs every block of every job in round-robin order, filling {@code doc}'s jobs. */
    public void run(ResultsDocument doc, Listener listener) throws InterruptedException {
        List<JobResult> jobs = doc.jobs();
        int[] sizes = config.blockSizes();
        boolean first = true;
        int round = 0;
        for (RoundRobin.Block b : RoundRobin.order(jobs.size(), config.rounds)) {
            if (b.round != round) {
                listener.roundDone(round, doc);
                round = b.round;
            }
            JobResult job = jobs.get(b.job);
            if (!job.live()) {
                continue;
            }
            if (!first && config.cooldownMs > 0) {
                platform.sleep(config.cooldownMs);
            }
            first = false;
            runBlock(job, b.round, sizes[b.round]);
        }
        listener.roundDone(round, doc);
    }

    private void runBlock(JobResult job, int round, int timed) {
        Artifact a = job.artifact;
        ModelRunner runner = null;
        try {
            JobResult.Conditions start = platform.conditions();
            platform.gc();
            Double baseline = platform.pssMb();
            Double nativeBefore = platform.nativeHeapMb();
            runner = runners.create(job.runtime);
            long t0 = System.nanoTime();
            runner.load(a.file, a.sidecar.inputShape, config.threads);
            double loadMs = (System.nanoTime() - t0) / 1e6;
            Double afterLoad = platform.pssMb();
            Double peak = afterLoad;
            if (round == 0) {
                job.loadMs = loadMs;
                job.check = check(runner, a);
                peak = max(peak, platform.pssMb());
                if (evalImages != null) {
                    job.eval = evaluate(runner, a.sidecar);
                    peak = max(peak, platform.pssMb());
                }
            }
            float[] input = timingInputs.get(job);
            if (input == null) {
                input = platform.timingInput(a.sidecar.preprocess);
                timingInputs.put(job, input);
            }
            runner.setInput(input);
            for (int i = 0; i < config.warmup; i++) {
                runner.run();
            }
            peak = max(peak, platform.pssMb());
            double[] samples = new double[timed];
            for (int i = 0; i < timed; i++) {
                samples[i] = runner.run() / 1e6;
            }
            peak = max(peak, platform.pssMb());
            Double nativeAfter = platform.nativeHeapMb();
            for (double s : samples) {
                job.samplesMs.add(s);
            }
            job.addBlock(baseline, afterLoad, peak, nativeBefore, nativeAfter, start, platform.conditions());
        } catch (Exception | LinkageError e) {
            job.error = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        } finally {
            if (runner != null) {
                runner.close();
            }
        }
    }

    /** Runs the artifact's check file (before any timing) and judges the outputs as the export did. */
    static CheckVerdict check(ModelRunner runner, Artifact a) throws Exception {
        File file = a.checkFile();
        if (file == null) {
            return CheckVerdict.missing(null, a.name() + " has no check entry in its sidecar (exported before"
                    + " check files; re-export it to get one)");
        }
        if (!file.isFile()) {
            return CheckVerdict.missing(file.getName(), "check file " + file.getName() + " was not pushed beside "
                    + a.name());
        }
        CheckFile data;
        try {
            long[] out = {a.sidecar.inputShape[0], a.sidecar.numClasses};
            data = CheckFile.read(file, a.sidecar.checkSha256, a.sidecar.inputShape, out);
        } catch (CheckFile.CheckFileException | IOException e) {
            return CheckVerdict.error(file.getName(), e.getMessage());
        }
        List<float[]> outputs = new ArrayList<>(data.n);
        for (float[] x : data.inputs) {
            runner.setInput(x);
            runner.run();
            outputs.add(runner.output());
        }
        return CheckVerdict.judge(data, outputs);
    }

    private Map<String, Object> evaluate(ModelRunner runner, Sidecar sidecar) throws Exception {
        EvalTally tally = new EvalTally(sidecar.labels);
        for (EvalLabels.Entry e : evalImages.entries()) {
            if (!tally.knows(e.className)) {
                tally.skip();
                continue;
            }
            float[] x;
            try {
                x = evalImages.input(e, sidecar.preprocess);
            } catch (IOException undecodable) {
                tally.skip();
                continue;
            }
            runner.setInput(x);
            runner.run();
            tally.add(e.className, e.eagerTop1, runner.output());
        }
        return tally.toRow();
    }

    private static Double max(Double a, Double b) {
        if (a == null) {
            return b;
        }
        return b == null ? a : Math.max(a, b);
    }
}
