package org.coordatt.demo.artifact;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A model's class names in class-index order, as its sidecar carries them (schema
 * coordatt.artifact/2: the 1000 ImageNet-1k names, or a fine-tuned model's own), and top-k over
 * logits. Sidecars of schema /1 carry no names: their classes show as "class N".
 */
public final class Labels {

    private static final Labels UNNAMED = new Labels(Collections.emptyList());

    private final List<String> names;

    private Labels(List<String> names) {
        this.names = names;
    }

    /** The names, index i naming class i (copied). */
    public static Labels of(List<String> names) {
        return new Labels(Collections.unmodifiableList(new ArrayList<>(names)));
    }

    /** No names (a coordatt.artifact/1 sidecar): every class shows as "class N". */
    public static Labels unnamed() {
        return UNNAMED;
    }

    /** How many names there are: the model's num_classes, or 0 when unnamed. */
    public int size() {
        return names.size();
    }

    public boolean isNamed() {
        return !names.isEmpty();
    }

    /** The name of class {@code index}, or "class N" when there is none. */
    public String name(int index) {
        return index >= 0 && index < names.size() ? names.get(index) : "class " + index;
    }

    /** Indices of the k largest logits, largest first (ties: lower index first). */
    public static int[] topK(float[] logits, int k) {
        Integer[] idx = new Integer[logits.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
        int n = Math.min(k, idx.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = idx[i];
        }
        return out;
    }

    /** Softmax probabilities (the model outputs raw logits: sidecar output.activation "none"). */
    public static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
