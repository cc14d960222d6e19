package org.coordatt.demo.runtime;

/** Runtime name (derived from an artifact's sidecar) to a new, unloaded {@link ModelRunner}. */
public final class Runners {

    public static final String EXECUTORCH_XNNPACK = "executorch-xnnpack";
    public static final String EXECUTORCH_XNNPACK_INT8 = "executorch-xnnpack-int8";
    public static final String EXECUTORCH_PORTABLE = "executorch-portable";
    public static final String ONNXRUNTIME = OrtRunner.RUNTIME;

    private Runners() {}

    /** @throws IllegalArgumentException for a runtime this app does not carry (e.g. coreml) */
    public static ModelRunner create(String runtime) {
        if (runtime == null) {
            throw new IllegalArgumentException("no runtime: the artifact has no usable sidecar");
        }
        switch (runtime) {
            case EXECUTORCH_XNNPACK:
            case EXECUTORCH_XNNPACK_INT8:
            case EXECUTORCH_PORTABLE:
                return new ExecuTorchRunner(runtime);
            case ONNXRUNTIME:
                return new OrtRunner();
            default:
                throw new IllegalArgumentException("unknown runtime '" + runtime + "'; choose from "
                        + EXECUTORCH_XNNPACK + ", " + EXECUTORCH_XNNPACK_INT8 + ", "
                        + EXECUTORCH_PORTABLE + ", " + ONNXRUNTIME);
        }
    }
}
