package org.coordatt.demo.runtime;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/** Runtime names (shared with coordatt.runtime's NAMES) to new, unloaded {@link ModelRunner}s. */
public final class Runners {

    public static final String EXECUTORCH_XNNPACK = "executorch-xnnpack";
    public static final String EXECUTORCH_XNNPACK_INT8 = "executorch-xnnpack-int8";
    public static final String EXECUTORCH_PORTABLE = "executorch-portable";
    public static final String ONNXRUNTIME = "onnxruntime";
    public static final String ONNXRUNTIME_INT8 = "onnxruntime-int8";
    public static final String ONNXRUNTIME_XNNPACK = "onnxruntime-xnnpack";
    public static final String ONNXRUNTIME_XNNPACK_INT8 = "onnxruntime-xnnpack-int8";
    public static final String LITERT = "litert";
    public static final String LITERT_INT8 = "litert-int8";

    /** Every runtime this app carries, in the order the harness lists them. */
    public static final List<String> NAMES = Collections.unmodifiableList(Arrays.asList(
            EXECUTORCH_XNNPACK, EXECUTORCH_XNNPACK_INT8, EXECUTORCH_PORTABLE, ONNXRUNTIME,
            ONNXRUNTIME_INT8, ONNXRUNTIME_XNNPACK, ONNXRUNTIME_XNNPACK_INT8, LITERT, LITERT_INT8));

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
            case ONNXRUNTIME_INT8:
            case ONNXRUNTIME_XNNPACK:
            case ONNXRUNTIME_XNNPACK_INT8:
                return new OrtRunner(runtime);
            case LITERT:
            case LITERT_INT8:
                return new LiteRtRunner(runtime);
            default:
                throw new IllegalArgumentException("unknown runtime '" + runtime + "'; choose from "
                        + String.join(", ", NAMES));
        }
    }
}
