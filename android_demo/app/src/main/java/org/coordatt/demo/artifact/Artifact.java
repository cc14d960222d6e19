package org.coordatt.demo.artifact;

import java.io.File;
import java.util.Collections;
import java.util.List;

/**
 * A model file (.pte, .onnx or .tflite) found on the device, with its parsed sidecar, or the reason it
 * cannot run (no sidecar, a sidecar that does not parse, a runtime this app does not carry).
 */
public final class Artifact {

    public final File file;
    /** Null when {@link #error} is set. */
    public final Sidecar sidecar;
    /** The main screen's runtime (the first of {@link #runtimes}); null when {@link #error} is set. */
    public final String runtime;
    /** Every runtime that runs this file (an .onnx has two: CPU and XNNPACK EPs); empty on error. */
    public final List<String> runtimes;
    /** Why this artifact cannot run, or null. */
    public final String error;

    private Artifact(File file, Sidecar sidecar, List<String> runtimes, String error) {
        this.file = file;
        this.sidecar = sidecar;
        this.runtimes = Collections.unmodifiableList(runtimes);
        this.runtime = runtimes.isEmpty() ? null : runtimes.get(0);
        this.error = error;
    }

    public static Artifact ok(File file, Sidecar sidecar) {
        return new Artifact(file, sidecar, sidecar.runtimes(), null);
    }

    public static Artifact failed(File file, String error) {
        return new Artifact(file, null, Collections.<String>emptyList(), error);
    }

    /** The check file the sidecar names, beside the artifact; null if the sidecar names none. */
    public File checkFile() {
        return sidecar == null || sidecar.checkFile == null ? null : new File(file.getParentFile(), sidecar.checkFile);
    }

    public String name() {
        return file.getName();
    }
}
