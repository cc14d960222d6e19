package org.coordatt.demo.artifact;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Finds .pte, .onnx and .tflite files in a folder and pairs each with its {@code <file>.json} sidecar. */
public final class ArtifactFinder {

    private ArtifactFinder() {}

    public static boolean isModelFile(String name) {
        return name.endsWith(".pte") || name.endsWith(".onnx") || name.endsWith(".tflite");
    }

    /**
     * Every model file directly in {@code dir}, sorted by name; a file whose sidecar is missing or
     * unusable comes back as a failed {@link Artifact}. An unreadable folder gives an empty list.
     */
    public static List<Artifact> find(File dir) {
        List<Artifact> found = new ArrayList<>();
        File[] files = dir.listFiles();
        if (files == null) {
            return found;
        }
        Arrays.sort(files);
        for (File f : files) {
            if (f.isFile() && isModelFile(f.getName())) {
                found.add(describe(f));
            }
        }
        return found;
    }

    /** The artifact at {@code model}, read with the sidecar beside it. */
    public static Artifact describe(File model) {
        File json = new File(model.getParentFile(), model.getName() + ".json");
        if (!json.isFile()) {
            return Artifact.failed(model, "no sidecar " + json.getName()
                    + " beside it: export with coordatt-export, which writes both");
        }
        try {
            Sidecar sidecar = Sidecar.parse(new String(Files.readAllBytes(json.toPath()), StandardCharsets.UTF_8));
            if (!model.getName().equals(sidecar.artifact)) {
                return Artifact.failed(model, json.getName() + " describes '" + sidecar.artifact
                        + "', not this file; keep an artifact's name as exported");
            }
            return Artifact.ok(model, sidecar);
        } catch (IOException e) {
            return Artifact.failed(model, "cannot read " + json.getName() + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            return Artifact.failed(model, json.getName() + ": " + e.getMessage());
        }
    }
}
