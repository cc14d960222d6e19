package org.coordatt.demo.runtime;

import java.io.File;
import org.pytorch.executorch.EValue;
import org.pytorch.executorch.Module;
import org.pytorch.executorch.Tensor;

/** ExecuTorch (org.pytorch:executorch-android): runs .pte programs, XNNPACK-delegated or portable. */
public final class ExecuTorchRunner implements ModelRunner {

    private final String runtime;
    private Module module;
    private InputBuffer input;
    private EValue inputValue;
    private EValue[] last;

    /** @param runtime the results-row name, e.g. executorch-xnnpack or executorch-xnnpack-int8 */
    public ExecuTorchRunner(String runtime) {
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
        // LOAD_MODE_FILE reads the program into memory, as ExecuTorch's own benchmark app does.
        Module loaded = Module.load(model.getAbsolutePath(), Module.LOAD_MODE_FILE, threads);
        try {
            // Module.load is lazy; loading "forward" here puts program and delegate init in load time.
            loaded.loadMethod("forward");
        } catch (RuntimeException e) {
            loaded.destroy();
            throw e;
        }
        module = loaded;
        // The tensor views the direct buffer: setInput writes through, run() allocates nothing.
        input = new InputBuffer(inputShape);
        inputValue = EValue.from(Tensor.fromBlob(input.floats, input.shape));
    }

    @Override
    public void setInput(float[] values) {
        loaded().set(values);
    }

    @Override
    public long run() {
        loaded();
        long start = System.nanoTime();
        EValue[] out = module.forward(inputValue);
        long elapsed = System.nanoTime() - start;
        if (out.length == 0 || !out[0].isTensor()) {
            throw new IllegalStateException("forward returned no tensor (outputs: " + out.length + ")");
        }
        last = out;
        return elapsed;
    }

    @Override
    public float[] output() {
        if (last == null) {
            throw new IllegalStateException("ExecuTorchRunner.output before run");
        }
        return last[0].toTensor().getDataAsFloatArray();
    }

    private InputBuffer loaded() {
        if (module == null) {
            throw new IllegalStateException("ExecuTorchRunner used before load");
        }
        return input;
    }

    @Override
    public void close() {
        last = null;
        inputValue = null;
        input = null;
        if (module != null) {
            module.destroy();
            module = null;
        }
    }
}
