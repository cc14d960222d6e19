package org.coordatt.demo.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.Map;

/**
 * ONNX Runtime (com.microsoft.onnxruntime:onnxruntime-android) with its default CPU execution
 * provider ({@code onnxruntime}, {@code onnxruntime-int8}) or its XNNPACK execution provider
 * ({@code onnxruntime-xnnpack}, {@code onnxruntime-xnnpack-int8}: the kernels library ExecuTorch
 * delegates to, so the two compare on equal terms).
 *
 * <p>XNNPACK EP threads: XNNPACK's own pool gets {@code threads}, ORT's intra-op pool 1 thread with
 * spinning off, as ONNX Runtime's XNNPACK EP documentation advises (two spinning pools would
 * compete for the same cores).
 */
public final class OrtRunner implements ModelRunner {

    private final String runtime;
    private final boolean xnnpack;
    private OrtEnvironment env;
    private OrtSession.SessionOptions options;
    private OrtSession session;
    private InputBuffer input;
    private OnnxTensor inputTensor;
    private Map<String, OnnxTensor> inputs;
    /** Pinned output (static output shape): run() writes into it, allocating nothing. */
    private OnnxTensor outputTensor;
    private FloatBuffer outputFloats;
    private Map<String, OnnxValue> outputs;
    private float[] lastUnpinned;
    private boolean ran;

    /** @param runtime onnxruntime[-int8] (CPU EP) or onnxruntime-xnnpack[-int8] (XNNPACK EP) */
    public OrtRunner(String runtime) {
        this.runtime = runtime;
        this.xnnpack = runtime.startsWith(Runners.ONNXRUNTIME_XNNPACK);
    }

    /** The native library's own version string, e.g. "1.29.0" (loads the library). */
    public static String nativeVersion() {
        return OrtEnvironment.getEnvironment().getVersion();
    }

    @Override
    public String runtime() {
        return runtime;
    }

    @Override
    public void load(File model, long[] inputShape, int threads) throws OrtException {
        close();
        Threads.require(threads);
        // The environment is a process-wide singleton owned by ORT: sessions close, it does not.
        env = OrtEnvironment.getEnvironment();
        options = new OrtSession.SessionOptions();
        try {
            if (xnnpack) {
                options.addXnnpack(Collections.singletonMap("intra_op_num_threads", Integer.toString(threads)));
                options.setIntraOpNumThreads(1);
                options.addConfigEntry("session.intra_op.allow_spinning", "0");
            } else {
                options.setIntraOpNumThreads(threads);
            }
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(model.getAbsolutePath(), options);
            if (session.getInputNames().size() != 1) {
                throw new IllegalArgumentException(model.getName() + " has inputs "
                        + session.getInputNames() + "; the demo feeds exactly one image tensor");
            }
            String inputName = session.getInputNames().iterator().next();
            input = new InputBuffer(inputShape);
            // A direct buffer in native order: ORT reads it in place, no copy per run.
            inputTensor = OnnxTensor.createTensor(env, input.floats, input.shape);
            inputs = Collections.singletonMap(inputName, inputTensor);
            pinOutput();
        } catch (OrtException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void pinOutput() throws OrtException {
        Map.Entry<String, NodeInfo> first = session.getOutputInfo().entrySet().iterator().next();
        if (!(first.getValue().getInfo() instanceof TensorInfo)) {
            return;
        }
        long[] shape = ((TensorInfo) first.getValue().getInfo()).getShape();
        long n = 1;
        for (long d : shape) {
            if (d < 1) {
                return;  // a dynamic dimension: outputs are copied from each result instead
            }
            n *= d;
        }
        outputFloats = ByteBuffer.allocateDirect((int) n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        outputTensor = OnnxTensor.createTensor(env, outputFloats, shape);
        outputs = Collections.singletonMap(first.getKey(), outputTensor);
    }

    @Override
    public void setInput(float[] values) {
        if (session == null) {
            throw new IllegalStateException("OrtRunner used before load");
        }
        input.set(values);
    }

    @Override
    public long run() throws OrtException {
        if (session == null) {
            throw new IllegalStateException("OrtRunner used before load");
        }
        if (outputs != null) {
            long start = System.nanoTime();
            OrtSession.Result result = session.run(inputs, outputs);
            long elapsed = System.nanoTime() - start;
            result.close();  // the pinned output is not the result's: it stays open
            ran = true;
            return elapsed;
        }
        long start = System.nanoTime();
        try (OrtSession.Result result = session.run(inputs)) {
            long elapsed = System.nanoTime() - start;
            OnnxValue first = result.get(0);
            FloatBuffer logits = first instanceof OnnxTensor ? ((OnnxTensor) first).getFloatBuffer() : null;
            if (logits == null) {
                throw new IllegalStateException("first output is not a float32 tensor: " + first.getInfo());
            }
            lastUnpinned = new float[logits.remaining()];
            logits.get(lastUnpinned);
            ran = true;
            return elapsed;
        }
    }

    @Override
    public float[] output() {
        if (!ran) {
            throw new IllegalStateException("OrtRunner.output before run");
        }
        if (outputs == null) {
            return lastUnpinned.clone();
        }
        float[] out = new float[outputFloats.capacity()];
        outputFloats.rewind();
        outputFloats.get(out);
        outputFloats.rewind();
        return out;
    }

    @Override
    public void close() {
        ran = false;
        lastUnpinned = null;
        inputs = null;
        outputs = null;
        if (inputTensor != null) {
            inputTensor.close();
            inputTensor = null;
        }
        if (outputTensor != null) {
            outputTensor.close();
            outputTensor = null;
        }
        try {
            if (session != null) {
                session.close();
            }
        } catch (OrtException e) {
            // Closing releases memory only; a failure here leaves nothing for the caller to do.
        } finally {
            session = null;
            if (options != null) {
                options.close();
                options = null;
            }
        }
    }
}
