package org.coordatt.demo.bench;

import java.util.Arrays;

/**
 * Latency statistics from raw samples, defined exactly as docs/formats.md defines them for
 * results.json (ascending copy s, n = s.length): min s[0]; median (mean of the two middle values
 * for even n); p90 linear-interpolated like numpy.percentile(s, 90); arithmetic mean; sample
 * standard deviation (ddof = 1, 0 when n == 1); trimmed mean of s[k : n - k], k = floor(0.1 n).
 *
 * <p>Plain Java, no Android: unit-tested on the JVM.
 */
public final class LatencyStats {

    public final int n;
    public final double minMs;
    public final double medianMs;
    public final double p90Ms;
    public final double meanMs;
    public final double trimmedMeanMs;
    public final double stdMs;

    private LatencyStats(double[] sorted) {
        n = sorted.length;
        minMs = sorted[0];
        medianMs = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        p90Ms = percentile(sorted, 90.0);
        meanMs = mean(sorted, 0, n);
        double ss = 0;
        for (double v : sorted) {
            ss += (v - meanMs) * (v - meanMs);
        }
        stdMs = n == 1 ? 0.0 : Math.sqrt(ss / (n - 1));
        // floor(0.1 * n) in exact integer arithmetic, as coordatt.bench.stats does.
        int k = n / 10;
        trimmedMeanMs = mean(sorted, k, n - k);
    }

    /** Puts the six statistics under their results.json names (docs/formats.md), in order. */
    public void putInto(java.util.Map<String, Object> row) {
        row.put("min_ms", minMs);
        row.put("median_ms", medianMs);
        row.put("p90_ms", p90Ms);
        row.put("mean_ms", meanMs);
        row.put("trimmed_mean_ms", trimmedMeanMs);
        row.put("std_ms", stdMs);
    }

    /** @throws IllegalArgumentException for no samples or a non-finite sample */
    public static LatencyStats of(double[] samplesMs) {
        if (samplesMs.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        for (double v : samplesMs) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("non-finite sample " + v);
            }
        }
        double[] sorted = samplesMs.clone();
        Arrays.sort(sorted);
        return new LatencyStats(sorted);
    }

    /**
     * numpy's default ("linear") percentile of an ascending array: position q/100 * (n - 1),
     * interpolated between its two neighbours.
     */
    static double percentile(double[] sorted, double q) {
        double pos = q / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        double t = pos - lo;
        double a = sorted[lo];
        double b = sorted[hi];
        // numpy's _lerp: from the nearer end, so t == 1 gives b exactly.
        return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
    }

    private static double mean(double[] s, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += s[i];
        }
        return sum / (to - from);
    }
}
