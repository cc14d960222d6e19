package org.coordatt.demo.eval;

import java.util.LinkedHashMap;
import java.util.Map;
import org.coordatt.demo.artifact.Labels;

/**
 * One artifact's accuracy on the labelled images, as coordatt-eval computes it: top-1 and top-5
 * (fractions over the images whose class is among the artifact's labels), top-1 agreement with
 * the host's eager fp32 top-1 (over the used images that have one), images used and skipped
 * (undecodable, or a class the artifact does not know).
 */
public final class EvalTally {

    private final Labels labels;
    private int used;
    private int skipped;
    private int top1;
    private int top5;
    private int agreed;
    private int withEager;

    /** @param labels the artifact's class names, in class-index order */
    public EvalTally(Labels labels) {
        this.labels = labels;
    }

    /** True when {@code className} is one of the artifact's labels (else the image is skipped). */
    public boolean knows(String className) {
        if (!labels.isNamed()) {
            return false;
        }
        for (int i = 0; i < labels.size(); i++) {
            if (labels.name(i).equals(className)) {
                return true;
            }
        }
        return false;
    }

    /** An image that could not be used: undecodable, or its class unknown to this artifact. */
    public void skip() {
        skipped++;
    }

    /**
     * Counts one image's logits. A class matches by name (ImageNet names two classes "crane", so a
     * prediction of either counts).
     */
    public void add(String className, int eagerTop1, float[] logits) {
        if (!knows(className)) {
            skipped++;
            return;
        }
        used++;
        int[] top = Labels.topK(logits, Math.min(5, logits.length));
        for (int rank = 0; rank < top.length; rank++) {
            if (top[rank] < labels.size() && labels.name(top[rank]).equals(className)) {
                if (rank == 0) {
                    top1++;
                }
                top5++;
                break;
            }
        }
        if (eagerTop1 >= 0 && eagerTop1 < logits.length) {
            withEager++;
            if (top[0] == eagerTop1) {
                agreed++;
            }
        }
    }

    /** top1, top5, top1_agreement (null without images, or without eager indices), eval_images, eval_skipped. */
    public Map<String, Object> toRow() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("top1", used == 0 ? null : top1 / (double) used);
        m.put("top5", used == 0 ? null : top5 / (double) used);
        m.put("top1_agreement", withEager == 0 ? null : agreed / (double) withEager);
        m.put("eval_images", used);
        m.put("eval_skipped", skipped);
        return m;
    }
}
