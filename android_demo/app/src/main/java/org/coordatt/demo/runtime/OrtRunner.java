package org.coordatt.demo.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.File;
import java.nio.FloatBuffer;
import java.util.Collections;

/** ONNX Runtime (com.microsoft.onnxruntime:onnxruntime-android), default CPU execution provider. */
public final class OrtRunner implements ModelRunner {

    public static final String RUNTIME = "onnxruntime";

    private OrtEnvironment env;
    private OrtSession.SessionOptions options;
    private OrtSession session;
    private String inputName;

    /** The native library's own version string, e.g. "1.29.0" (loads the library). */
    public static String nativeVersion() {
        return OrtEnvironment.getEnvironment().getVersion();
    }

    @Override
    public String runtime() {
        return RUNTIME;
    }

    @Override
    public void load(File model, int threads) throws OrtException {
        close();
        // The environment is a process-wide singleton owned by ORT: sessions close, it does not.
        env = OrtEnvironment.getEnvironment();
        options = new OrtSession.SessionOptions();
        try {
            if (threads > 0) {
                options.setIntraOpNumThreads(threads);
            }
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(model.getAbsolutePath(), options);
            if (session.getInputNames().size() != 1) {
                throw new IllegalArgumentException(model.getName() + " has inputs "
                        + session.getInputNames() + "; the demo feeds exactly one image tensor");
            }
            inputName = session.getInputNames().iterator().next();
        } catch (OrtException | RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public Output run(float[] input, long[] shape) throws OrtException {
        if (session == null) {
            throw new IllegalStateException("OrtRunner.run before load");
        }
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), shape)) {
            long start = System.nanoTime();
            try (OrtSession.Result result = session.run(Collections.singletonMap(inputName, tensor))) {
                long elapsed = System.nanoTime() - start;
                OnnxValue first = result.get(0);
                if (!(first instanceof OnnxTensor)) {
                    throw new IllegalStateException("first output is not a tensor: " + first.getInfo());
                }
                FloatBuffer logits = ((OnnxTensor) first).getFloatBuffer();
                if (logits == null) {
                    throw new IllegalStateException("first output is not float32: " + first.getInfo());
                }
                float[] out = new float[logits.remaining()];
                logits.get(out);
                return new Output(out, elapsed);
            }
        }
    }

    @Override
    public void close() {
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
