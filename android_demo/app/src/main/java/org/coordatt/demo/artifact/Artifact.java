package org.coordatt.demo.artifact;

import java.io.File;

/**
 * A model file (.pte or .onnx) found on the device, with its parsed sidecar, or the reason it
 * cannot run (no sidecar, a sidecar that does not parse, a runtime this app does not carry).
 */
public final class Artifact {

    public final File file;
    /** Null when {@link #error} is set. */
    public final Sidecar sidecar;
    /** Null when {@link #error} is set. */
    public final String runtime;
    /** Why this artifact cannot run, or null. */
    public final String error;

    private Artifact(File file, Sidecar sidecar, String runtime, String error) {
        this.file = file;
        this.sidecar = sidecar;
        this.runtime = runtime;
        this.error = error;
    }

    public static Artifact ok(File file, Sidecar sidecar) {
        return new Artifact(file, sidecar, sidecar.runtime(), null);
    }

    public static Artifact failed(File file, String error) {
        return new Artifact(file, null, null, error);
    }

    public String name() {
        return file.getName();
    }
}
