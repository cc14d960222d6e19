package org.coordatt.demo;

import android.graphics.Bitmap;
import android.graphics.BitmapFactory;
import java.io.IOException;
import java.io.InputStream;
import org.coordatt.demo.artifact.Preprocessing;
import org.coordatt.demo.artifact.Sidecar;

/** Android bitmaps to model input, with the sidecar's preprocessing (see {@link Preprocessing}). */
final class BitmapInput {

    /** Opens the same image again: decoding reads it twice (bounds, then pixels). */
    interface Source {
        InputStream open() throws IOException;
    }

    private BitmapInput() {}

    /**
     * Decodes an image, subsampled by a power of two while both sides stay at least {@code minSide}
     * (keeps a 12 MP photo out of memory and gives the bilinear resize less to alias).
     *
     * @throws IOException if the stream is not an image Android can decode
     */
    static Bitmap decode(Source source, int minSide) throws IOException {
        BitmapFactory.Options bounds = new BitmapFactory.Options();
        bounds.inJustDecodeBounds = true;
        try (InputStream in = source.open()) {
            BitmapFactory.decodeStream(in, null, bounds);
        }
        if (bounds.outWidth <= 0 || bounds.outHeight <= 0) {
            throw new IOException("not a decodable image");
        }
        int sample = 1;
        while (Math.min(bounds.outWidth, bounds.outHeight) / (sample * 2) >= minSide) {
            sample *= 2;
        }
        BitmapFactory.Options opts = new BitmapFactory.Options();
        opts.inSampleSize = sample;
        opts.inPreferredConfig = Bitmap.Config.ARGB_8888;
        Bitmap bitmap;
        try (InputStream in = source.open()) {
            bitmap = BitmapFactory.decodeStream(in, null, opts);
        }
        if (bitmap == null) {
            throw new IOException("not a decodable image");
        }
        return bitmap;
    }

    /**
     * The model input for {@code image}: scaled (bilinear) to cover preprocess.resize, center-cropped
     * to preprocess.crop, then scaled and normalised to float32 [1, 3, H, W] RGB.
     */
    static float[] toInput(Bitmap image, Sidecar.Preprocess p) {
        Bitmap src = image.getConfig() == Bitmap.Config.ARGB_8888 ? image : image.copy(Bitmap.Config.ARGB_8888, false);
        int[] size = Preprocessing.coverSize(src.getWidth(), src.getHeight(), p.resizeW, p.resizeH);
        Bitmap scaled = Bitmap.createScaledBitmap(src, size[0], size[1], true);
        int[] origin = Preprocessing.centerCropOrigin(size[0], size[1], p.cropW, p.cropH);
        int[] pixels = new int[p.cropW * p.cropH];
        scaled.getPixels(pixels, 0, p.cropW, origin[0], origin[1], p.cropW, p.cropH);
        if (scaled != src) {
            scaled.recycle();
        }
        if (src != image) {
            src.recycle();
        }
        return Preprocessing.toNchw(pixels, p.cropW, p.cropH, p);
    }
}
