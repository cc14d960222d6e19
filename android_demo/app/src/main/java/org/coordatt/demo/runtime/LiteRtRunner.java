package org.coordatt.demo.runtime;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.tensorflow.lite.DataType;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.Tensor;

/**
 * LiteRT (com.google.ai.edge.litert:litert, package org.tensorflow.lite): runs .tflite models in
 * the Interpreter with the XNNPACK delegate and {@code threads} threads, as coordatt's host runner
 * (ai-edge-litert's Interpreter) does. {@code litert} for fp32, {@code litert-int8} for int8.
 *
 * <p>A model with int8/uint8 input or output tensors gets its float input quantized and its output
 * dequantized with the tensors' own scale and zero point, so every runner takes and returns
 * float32 (coordatt's own int8 .tflite files have float32 I/O already).
 */
public final class LiteRtRunner implements ModelRunner {

    private final String runtime;
    private Interpreter interpreter;
    private ByteBuffer in;
    private ByteBuffer out;
    private DataType inType;
    private DataType outType;
    private float inScale;
    private int inZero;
    private float outScale;
    private int outZero;
    private boolean ran;

    /** @param runtime litert or litert-int8 */
    public LiteRtRunner(String runtime) {
        this.runtime = runtime;
    }

    @Override
    public String runtime() {
        return runtime;
    }

    @Override
    public void load(File model, long[] inputShape, int threads) {
        close();
        Threads.require(threads);
        Interpreter.Options options = new Interpreter.Options();
        options.setNumThreads(threads);
        options.setUseXNNPACK(true);
        Interpreter loaded = new Interpreter(model, options);
        try {
            if (loaded.getInputTensorCount() != 1) {
                throw new IllegalArgumentException(model.getName() + " has " + loaded.getInputTensorCount()
                        + " inputs; the demo feeds exactly one image tensor");
            }
            loaded.allocateTensors();
            Tensor input = loaded.getInputTensor(0);
            long[] shape = new long[input.shape().length];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = input.shape()[i];
            }
            if (!Arrays.equals(shape, inputShape)) {
                throw new IllegalArgumentException(model.getName() + " takes " + Arrays.toString(shape)
                        + ", its sidecar says " + Arrays.toString(inputShape));
            }
            inType = requireSupported(input.dataType(), "input");
            inScale = input.quantizationParams().getScale();
            inZero = input.quantizationParams().getZeroPoint();
            Tensor output = loaded.getOutputTensor(0);
            outType = requireSupported(output.dataType(), "output");
            outScale = output.quantizationParams().getScale();
            outZero = output.quantizationParams().getZeroPoint();
            // Direct buffers, built once: run() hands the same two to the interpreter every time.
            in = ByteBuffer.allocateDirect(input.numBytes()).order(ByteOrder.nativeOrder());
            out = ByteBuffer.allocateDirect(output.numBytes()).order(ByteOrder.nativeOrder());
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
        interpreter = loaded;
    }

    private static DataType requireSupported(DataType type, String what) {
        if (type != DataType.FLOAT32 && type != DataType.INT8 && type != DataType.UINT8) {
            throw new IllegalArgumentException("the model's " + what + " is " + type
                    + "; this runner feeds float32, int8 or uint8");
        }
        return type;
    }

    @Override
    public void setInput(float[] values) {
        if (interpreter == null) {
            throw new IllegalStateException("LiteRtRunner used before load");
        }
        int elements = in.capacity() / (inType == DataType.FLOAT32 ? 4 : 1);
        if (values.length != elements) {
            throw new IllegalArgumentException("input has " + values.length + " values; the model takes " + elements);
        }
        in.clear();
        if (inType == DataType.FLOAT32) {
            in.asFloatBuffer().put(values);
        } else {
            int lo = inType == DataType.INT8 ? -128 : 0;
            int hi = inType == DataType.INT8 ? 127 : 255;
            for (float v : values) {
                long q = Math.round(v / inScale) + inZero;
                in.put((byte) Math.max(lo, Math.min(hi, q)));
            }
        }
        in.rewind();
    }

    @Override
    public long run() {
        if (interpreter == null) {
            throw new IllegalStateException("LiteRtRunner used before load");
        }
        in.rewind();
        out.rewind();
        long start = System.nanoTime();
        interpreter.run(in, out);
        long elapsed = System.nanoTime() - start;
        ran = true;
        return elapsed;
    }

    @Override
    public float[] output() {
        if (!ran) {
            throw new IllegalStateException("LiteRtRunner.output before run");
        }
        out.rewind();
        float[] logits;
        if (outType == DataType.FLOAT32) {
            logits = new float[out.capacity() / 4];
            out.asFloatBuffer().get(logits);
        } else {
            logits = new float[out.capacity()];
            for (int i = 0; i < logits.length; i++) {
                int q = outType == DataType.INT8 ? out.get(i) : out.get(i) & 0xFF;
                logits[i] = (q - outZero) * outScale;
            }
        }
        return logits;
    }

    @Override
    public void close() {
        ran = false;
        in = null;
        out = null;
        if (interpreter != null) {
            interpreter.close();
            interpreter = null;
        }
    }
}
