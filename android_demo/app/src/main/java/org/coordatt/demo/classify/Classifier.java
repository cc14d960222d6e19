package org.coordatt.demo.classify;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.artifact.Labels;
import org.coordatt.demo.artifact.Sidecar;
import org.coordatt.demo.bench.LatencyStats;
import org.coordatt.demo.runtime.ModelRunner;
import org.coordatt.demo.runtime.Runners;

/**
 * Classifies one image with every artifact, keeping each loaded runner for the next image.
 * Plain Java: the app calls it from its single inference thread, never from the UI thread.
 */
public final class Classifier implements AutoCloseable {

    /** Builds the model input for one artifact's preprocessing (the app's is Bitmap-based). */
    public interface InputSource {
        float[] input(Sidecar.Preprocess preprocess) throws Exception;
    }

    /** One artifact's answer: top-k and latency, or the error that stopped it. */
    public static final class Result {
        public final Artifact artifact;
        /** Load time if this call loaded the model, else null. */
        public final Double loadMs;
        public final LatencyStats latency;
        public final int[] topIndices;
        public final double[] topProbabilities;
        public final String error;

        Result(Artifact artifact, Double loadMs, LatencyStats latency, int[] topIndices,
                double[] topProbabilities, String error) {
            this.artifact = artifact;
            this.loadMs = loadMs;
            this.latency = latency;
            this.topIndices = topIndices;
            this.topProbabilities = topProbabilities;
            this.error = error;
        }
    }

    private final int threads;
    private final int warmup;
    private final int runs;
    private final Function<String, ModelRunner> runners;
    private final Map<String, ModelRunner> loaded = new LinkedHashMap<>();

    /** @param runs timed runs per artifact (the median is shown), after {@code warmup} untimed ones */
    public Classifier(int threads, int warmup, int runs) {
        this(threads, warmup, runs, Runners::create);
    }

    /** @param runners runtime name to a new, unloaded runner ({@link Runners#create} in the app) */
    public Classifier(int threads, int warmup, int runs, Function<String, ModelRunner> runners) {
        if (runs < 1 || warmup < 0) {
            throw new IllegalArgumentException("need runs >= 1 and warmup >= 0");
        }
        this.threads = threads;
        this.warmup = warmup;
        this.runs = runs;
        this.runners = runners;
    }

    public List<Result> classifyAll(List<Artifact> artifacts, InputSource image, int k) {
        List<Result> results = new ArrayList<>();
        for (Artifact a : artifacts) {
            results.add(classify(a, image, k));
        }
        return results;
    }

    public Result classify(Artifact a, InputSource image, int k) {
        if (a.error != null) {
            return new Result(a, null, null, null, null, a.error);
        }
        String key = a.file.getAbsolutePath();
        Double loadMs = null;
        try {
            ModelRunner runner = loaded.get(key);
            if (runner == null) {
                runner = runners.apply(a.runtime);
                long start = System.nanoTime();
                try {
                    runner.load(a.file, a.sidecar.inputShape, threads);
                } catch (Exception | LinkageError e) {
                    runner.close();
                    throw e;
                }
                loadMs = (System.nanoTime() - start) / 1e6;
                loaded.put(key, runner);
            }
            runner.setInput(image.input(a.sidecar.preprocess));
            for (int i = 0; i < warmup; i++) {
                runner.run();
            }
            double[] samples = new double[runs];
            for (int i = 0; i < runs; i++) {
                samples[i] = runner.run() / 1e6;
            }
            float[] logits = runner.output();
            if (logits.length != a.sidecar.numClasses) {
                // Names would be shown against the wrong classes.
                throw new IllegalStateException("the model returned " + logits.length
                        + " logits; its sidecar says num_classes " + a.sidecar.numClasses);
            }
            int[] top = Labels.topK(logits, k);
            double[] probs = Labels.softmax(logits);
            double[] topProbs = new double[top.length];
            for (int i = 0; i < top.length; i++) {
                topProbs[i] = probs[top[i]];
            }
            return new Result(a, loadMs, LatencyStats.of(samples), top, topProbs, null);
        } catch (Exception | LinkageError e) {
            ModelRunner broken = loaded.remove(key);
            if (broken != null) {
                broken.close();
            }
            return new Result(a, loadMs, null, null, null, describe(e));
        }
    }

    /** Releases every loaded model. */
    @Override
    public void close() {
        for (ModelRunner r : loaded.values()) {
            r.close();
        }
        loaded.clear();
    }

    static String describe(Throwable e) {
        String msg = e.getMessage();
        return e.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }
}
