package org.coordatt.demo.artifact;

/**
 * The sidecar's preprocessing, as plain arithmetic: the resize and crop geometry, and packed ARGB
 * pixels to a normalised float32 NCHW RGB tensor. The pixel resampling itself (bilinear) is the
 * platform's (android.graphics.Bitmap), see {@code BitmapInput}.
 */
public final class Preprocessing {

    private Preprocessing() {}

    /**
     * Size {w, h} of the image scaled uniformly to the smallest size covering [coverH, coverW]:
     * one side equals its target, the other is at least its target.
     */
    public static int[] coverSize(int srcW, int srcH, int coverW, int coverH) {
        if (srcW <= 0 || srcH <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + srcW + "x" + srcH);
        }
        double s = Math.max((double) coverW / srcW, (double) coverH / srcH);
        int w = Math.max(coverW, (int) Math.round(srcW * s));
        int h = Math.max(coverH, (int) Math.round(srcH * s));
        return new int[] {w, h};
    }

    /**
     * Top-left {x, y} of a centered crop, rounded half to even like torchvision's center_crop
     * ({@code int(round((h - th) / 2.0))}).
     */
    public static int[] centerCropOrigin(int w, int h, int cropW, int cropH) {
        if (cropW > w || cropH > h) {
            throw new IllegalArgumentException("crop " + cropW + "x" + cropH + " exceeds image " + w + "x" + h);
        }
        return new int[] {(int) Math.rint((w - cropW) / 2.0), (int) Math.rint((h - cropH) / 2.0)};
    }

    /**
     * Packed ARGB pixels (row-major, {@code w * h}) to float32 [1, 3, h, w], RGB planes, each value
     * {@code (channel * scale - mean[c]) / std[c]}; alpha is ignored.
     */
    public static float[] toNchw(int[] argb, int w, int h, Sidecar.Preprocess p) {
        int plane = w * h;
        if (argb.length != plane) {
            throw new IllegalArgumentException("expected " + plane + " pixels, got " + argb.length);
        }
        float[] out = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            int c = argb[i];
            out[i] = (float) ((((c >> 16) & 0xff) * p.scale - p.mean[0]) / p.std[0]);
            out[plane + i] = (float) ((((c >> 8) & 0xff) * p.scale - p.mean[1]) / p.std[1]);
            out[2 * plane + i] = (float) (((c & 0xff) * p.scale - p.mean[2]) / p.std[2]);
        }
        return out;
    }
}
