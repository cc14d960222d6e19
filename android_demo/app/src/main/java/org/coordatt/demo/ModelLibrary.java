package org.coordatt.demo;

import android.content.Context;
import android.content.res.AssetManager;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.artifact.ArtifactFinder;

/**
 * Where the app looks for models: assets/models/ (copied to files/models/ first, since both runtimes
 * load from a file path), files/models/, and the adb push folder /data/local/tmp/coordatt/.
 */
final class ModelLibrary {

    static final String PUSH_DIR = "/data/local/tmp/coordatt";
    static final String ASSET_DIR = "models";

    private ModelLibrary() {}

    /** Every artifact the app can see, bundled first; an unusable one carries its error. */
    static List<Artifact> findAll(Context context) {
        List<Artifact> all = new ArrayList<>();
        File local = new File(context.getFilesDir(), ASSET_DIR);
        try {
            copyAssets(context.getAssets(), local);
        } catch (IOException e) {
            all.add(Artifact.failed(new File(local, "(assets/models)"), "cannot copy bundled models: " + e.getMessage()));
        }
        all.addAll(ArtifactFinder.find(local));
        all.addAll(ArtifactFinder.find(new File(PUSH_DIR)));
        return all;
    }

    /** Copies assets/models/* to {@code dest} (each file via a temp file and a rename). */
    private static void copyAssets(AssetManager assets, File dest) throws IOException {
        String[] names = assets.list(ASSET_DIR);
        if (names == null || names.length == 0) {
            return;
        }
        if (!dest.isDirectory() && !dest.mkdirs()) {
            throw new IOException("cannot create " + dest);
        }
        byte[] buf = new byte[1 << 16];
        for (String name : names) {
            File out = new File(dest, name);
            File tmp = new File(dest, name + ".part");
            try (InputStream in = assets.open(ASSET_DIR + "/" + name);
                    OutputStream os = new FileOutputStream(tmp)) {
                for (int n = in.read(buf); n > 0; n = in.read(buf)) {
                    os.write(buf, 0, n);
                }
            }
            if (!tmp.renameTo(out)) {
                throw new IOException("cannot write " + out);
            }
        }
    }
}
