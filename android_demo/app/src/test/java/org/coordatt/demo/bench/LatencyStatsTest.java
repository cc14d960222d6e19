package org.coordatt.demo.bench;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import org.junit.Test;

/**
 * LatencyStats against values computed with numpy from the definitions in docs/formats.md
 * (numpy.median, numpy.percentile(s, 90), mean, std(ddof=1), mean of s[floor(0.1 n) : n - floor(0.1 n)]).
 */
public class LatencyStatsTest {

    private static final double EPS = 1e-9;

    private static void check(double[] samples, double min, double median, double p90, double mean,
            double trimmed, double std) {
        LatencyStats s = LatencyStats.of(samples);
        assertEquals("min", min, s.minMs, EPS);
        assertEquals("median", median, s.medianMs, EPS);
        assertEquals("p90", p90, s.p90Ms, EPS);
        assertEquals("mean", mean, s.meanMs, EPS);
        assertEquals("trimmed mean", trimmed, s.trimmedMeanMs, EPS);
        assertEquals("std", std, s.stdMs, EPS);
    }

    @Test
    public void tenSamplesWithAnOutlier() {
        // k = 1: the trimmed mean drops 7.9 and the 12.0 outlier.
        check(new double[] {8.1, 8.0, 7.9, 8.4, 9.0, 8.2, 8.0, 7.95, 8.3, 12.0},
                7.9, 8.15, 9.3, 8.585, 8.24375, 1.2423208567480106);
    }

    @Test
    public void oneSampleHasZeroStd() {
        check(new double[] {5.0}, 5.0, 5.0, 5.0, 5.0, 5.0, 0.0);
    }

    @Test
    public void evenCountMedianAveragesTheMiddlePair() {
        check(new double[] {3.0, 1.0}, 1.0, 2.0, 2.8, 2.0, 2.0, 1.4142135623730951);
    }

    @Test
    public void oddCountUnsortedInput() {
        check(new double[] {4.0, 1.0, 2.0}, 1.0, 2.0, 3.6, 2.3333333333333335, 2.3333333333333335,
                1.5275252316519465);
    }

    @Test
    public void twentySamplesTrimTwoEachSide() {
        double[] s = new double[20];
        for (int i = 0; i < s.length; i++) {
            s[i] = 20 - i;
        }
        check(s, 1.0, 10.5, 18.1, 10.5, 10.5, 5.916079783099616);
    }

    @Test
    public void inputIsNotReordered() {
        double[] samples = {3.0, 1.0, 2.0};
        LatencyStats.of(samples);
        assertEquals(3.0, samples[0], 0.0);
    }

    @Test
    public void rejectsNoSamplesAndNonFinite() {
        assertThrows(IllegalArgumentException.class, () -> LatencyStats.of(new double[0]));
        assertThrows(IllegalArgumentException.class, () -> LatencyStats.of(new double[] {1.0, Double.NaN}));
    }
}
