package org.coordatt.demo.artifact;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Class names, one a line in class-index order (assets/imagenet_labels.txt: the 1000 ImageNet-1k
 * synsets with their WordNet lemmas, from timm's timm/data/_info), and top-k over logits.
 */
public final class Labels {

    private final List<String> names;

    private Labels(List<String> names) {
        this.names = names;
    }

    public static Labels read(InputStream in) throws IOException {
        List<String> names = new ArrayList<>();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line = r.readLine(); line != null; line = r.readLine()) {
            names.add(line.trim());
        }
        return new Labels(names);
    }

    public int size() {
        return names.size();
    }

    /** The name of class {@code index}, or "class N" past the end of the file. */
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
