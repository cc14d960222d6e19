package org.coordatt.demo.bench;

import java.io.File;
import org.coordatt.demo.runtime.ModelRunner;

/**
 * One measuring method (docs/formats.md, STYLE habit 10): load (timed), warm-up runs (untimed),
 * then timed runs, each latency from System.nanoTime around the runtime's inference call, kept raw.
 * Memory is sampled by a {@link MemoryProbe} outside the timed region.
 */
public final class BenchmarkLoop {

    /** The process's memory now, in MB; null where it cannot be measured. */
    public interface MemoryProbe {
        Double megabytes();
    }

    /** What one artifact's run measured. */
    public static final class Measurement {
        public final double loadMs;
        public final double[] samplesMs;
        /** Largest probe reading (after load, after warm-up, after the timed runs), or null. */
        public final Double peakMemoryMb;

        Measurement(double loadMs, double[] samplesMs, Double peakMemoryMb) {
            this.loadMs = loadMs;
            this.samplesMs = samplesMs;
            this.peakMemoryMb = peakMemoryMb;
        }
    }

    private BenchmarkLoop() {}

    /**
     * Loads {@code model} into {@code runner}, runs {@code warmup} untimed and {@code iters} timed
     * inferences on {@code input}. The caller owns (and closes) the runner.
     */
    public static Measurement measure(ModelRunner runner, File model, int threads, int warmup,
            int iters, float[] input, long[] shape, MemoryProbe memory) throws Exception {
        if (iters < 1 || warmup < 0) {
            throw new IllegalArgumentException("need iters >= 1 and warmup >= 0, got iters=" + iters
                    + " warmup=" + warmup);
        }
        long start = System.nanoTime();
        runner.load(model, threads);
        double loadMs = (System.nanoTime() - start) / 1e6;
        Double peak = max(null, memory.megabytes());

        for (int i = 0; i < warmup; i++) {
            runner.run(input, shape);
        }
        peak = max(peak, memory.megabytes());

        double[] samples = new double[iters];
        for (int i = 0; i < iters; i++) {
            samples[i] = runner.run(input, shape).inferenceNanos / 1e6;
        }
        peak = max(peak, memory.megabytes());
        return new Measurement(loadMs, samples, peak);
    }

    private static Double max(Double a, Double b) {
        if (a == null) {
            return b;
        }
        return b == null ? a : Math.max(a, b);
    }
}
