package org.coordatt.demo;

import android.content.Context;
import android.content.pm.PackageManager;
import android.content.res.AssetManager;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
    /**
     * One user of the runtimes at a time in this process: the benchmark holds it for its whole run,
     * the main screen for each classification (ExecuTorch resets a process-wide threadpool when the
     * thread count changes, which can crash a Module running on another thread).
     */
    static final java.util.concurrent.Semaphore INFERENCE = new java.util.concurrent.Semaphore(1);

    private ModelLibrary() {}

    /** Every artifact the app can see, bundled first; an unusable one carries its error. */
    static List<Artifact> findAll(Context context) {
        List<Artifact> all = new ArrayList<>();
        File local = new File(context.getFilesDir(), ASSET_DIR);
        try {
            long installed = context.getPackageManager().getPackageInfo(context.getPackageName(), 0).lastUpdateTime;
            File stamp = new File(local, ".copied");
            String want = Long.toString(installed);
            if (!stamp.isFile() || !want.equals(new String(Files.readAllBytes(stamp.toPath()), StandardCharsets.UTF_8))) {
                copyAssets(context.getAssets(), local);
                if (!local.isDirectory() && !local.mkdirs()) {
                    throw new IOException("cannot create " + local);
                }
                Files.write(stamp.toPath(), want.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException | PackageManager.NameNotFoundException e) {
            all.add(Artifact.failed(new File(local, "(assets/models)"), "cannot copy bundled models: " + e.getMessage()));
        }
        all.addAll(ArtifactFinder.find(local));
        all.addAll(ArtifactFinder.find(new File(PUSH_DIR)));
        return all;
    }

    /**
     * Copies assets/models/* to {@code dest} (each file via a temp file and a rename) once per
     * install or update of the APK: a stamp file holds the package's lastUpdateTime of the last copy.
     */
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
