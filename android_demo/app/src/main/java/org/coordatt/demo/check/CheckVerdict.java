package org.coordatt.demo.check;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The export's verdict on an artifact's outputs for its check inputs (coordatt/export/verify.py:
 * check_fp32, check_int8 against fp32), computed here so the phone judges as the host does.
 * Over all n inputs, with outputs y and expected r (scale = max |r|):
 * fp32: max |y - r| <= max_rel_diff x scale; int8: SQNR = 10 log10(sum r^2 / sum (r - y)^2) >=
 * min_sqnr_db, the lowest per-input cosine >= min_cosine, and, when judged, the share of inputs
 * whose argmax agrees >= min_top1_agreement. Any NaN/Inf output fails.
 */
public final class CheckVerdict {

    public static final String PASSED = "passed";
    public static final String FAILED = "failed";
    /** No check file pushed (or the sidecar predates check files): shown, not a failure. */
    public static final String MISSING = "missing";
    /** The check file is unusable (sha256 mismatch, damaged, shapes not the artifact's). */
    public static final String ERROR = "error";

    public final String status;
    public final String file;
    public final Double maxAbsDiff;
    /** The lowest per-input cosine similarity. */
    public final Double cosine;
    public final Double top1Agreement;
    public final Double sqnrDb;
    public final String message;

    private CheckVerdict(String status, String file, Double maxAbsDiff, Double cosine, Double top1Agreement,
            Double sqnrDb, String message) {
        this.status = status;
        this.file = file;
        this.maxAbsDiff = maxAbsDiff;
        this.cosine = cosine;
        this.top1Agreement = top1Agreement;
        this.sqnrDb = sqnrDb;
        this.message = message;
    }

    public static CheckVerdict missing(String file, String message) {
        return new CheckVerdict(MISSING, file, null, null, null, null, message);
    }

    public static CheckVerdict error(String file, String message) {
        return new CheckVerdict(ERROR, file, null, null, null, null, message);
    }

    /** Judges {@code outputs} (one per check input, in order) by the check file's rule. */
    public static CheckVerdict judge(CheckFile data, List<float[]> outputs) {
        if (outputs.size() != data.n) {
            throw new IllegalArgumentException("need " + data.n + " outputs, got " + outputs.size());
        }
        int k = data.expected[0].length;
        for (float[] y : outputs) {
            if (y.length != k) {
                return new CheckVerdict(FAILED, data.name, null, null, null, null, "the artifact returns [1, "
                        + y.length + "], the check file expects [1, " + k + "]");
            }
            for (float v : y) {
                if (!Float.isFinite(v)) {
                    return new CheckVerdict(FAILED, data.name, null, null, null, null,
                            "the artifact's outputs hold NaN/Inf values where eager PyTorch's are finite");
                }
            }
        }
        double scale = 0;
        double maxDiff = 0;
        double signal = 0;
        double noise = 0;
        double minCos = Double.POSITIVE_INFINITY;
        int agree = 0;
        for (int i = 0; i < data.n; i++) {
            float[] r = data.expected[i];
            float[] y = outputs.get(i);
            double dot = 0;
            double rr = 0;
            double yy = 0;
            for (int j = 0; j < k; j++) {
                double d = (double) r[j] - y[j];
                scale = Math.max(scale, Math.abs((double) r[j]));
                maxDiff = Math.max(maxDiff, Math.abs(d));
                signal += (double) r[j] * r[j];
                noise += d * d;
                dot += (double) r[j] * y[j];
                rr += (double) r[j] * r[j];
                yy += (double) y[j] * y[j];
            }
            // torch.nn.functional.cosine_similarity: each norm clamped at eps 1e-8
            minCos = Math.min(minCos, dot / (Math.max(Math.sqrt(rr), 1e-8) * Math.max(Math.sqrt(yy), 1e-8)));
            if (argmax(r) == argmax(y)) {
                agree++;
            }
        }
        double top1 = agree / (double) data.n;
        double sqnr = noise == 0 ? Double.POSITIVE_INFINITY
                : signal > 0 ? 10 * Math.log10(signal / noise) : Double.NEGATIVE_INFINITY;
        boolean ok;
        String message;
        if ("fp32".equals(data.rule)) {
            ok = maxDiff <= data.maxRelDiff * Math.max(scale, 1e-30);
            message = String.format(Locale.ROOT, "max abs diff %.3g at logit scale %.3g (limit %.3g x scale)",
                    maxDiff, scale, data.maxRelDiff);
        } else {
            boolean judged = !Double.isNaN(data.minTop1Agreement);
            ok = sqnr >= data.minSqnrDb && minCos >= data.minCosine && (!judged || top1 >= data.minTop1Agreement);
            message = String.format(Locale.ROOT, "SQNR %.1f dB, cosine %.4f, top-1 agreement %.0f%% vs fp32",
                    sqnr, minCos, 100 * top1) + (judged ? "" : "; untrained weights: top-1 not judged");
        }
        return new CheckVerdict(ok ? PASSED : FAILED, data.name, maxDiff, minCos, top1,
                Double.isInfinite(sqnr) ? null : sqnr, message);
    }

    /** First index of the largest value (ties: the lower index, as numpy's argmax). */
    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** True for a verdict that marks the row: a failed check or an unusable check file. */
    public boolean flags() {
        return FAILED.equals(status) || ERROR.equals(status);
    }

    /** The row's "flagged" text, or null: {@code check failed: <one line>}. */
    public String flaggedText() {
        return flags() ? "check failed: " + (message == null ? status : message.split("\n", 2)[0]) : null;
    }

    /** The row's "check" object (docs/formats.md): status, file, max_abs_diff, cosine, top1_agreement, message. */
    public Map<String, Object> toRow() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", status);
        m.put("file", file);
        m.put("max_abs_diff", maxAbsDiff);
        m.put("cosine", cosine);
        m.put("top1_agreement", top1Agreement);
        m.put("message", message);
        return m;
    }
}
