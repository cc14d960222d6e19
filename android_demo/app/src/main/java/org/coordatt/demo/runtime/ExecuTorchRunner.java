package org.coordatt.demo.runtime;

import java.io.File;
import org.pytorch.executorch.EValue;
import org.pytorch.executorch.Module;
import org.pytorch.executorch.Tensor;

/** ExecuTorch (org.pytorch:executorch-android): runs .pte programs, XNNPACK-delegated or portable. */
public final class ExecuTorchRunner implements ModelRunner {

    private final String runtime;
    private Module module;

    /** @param runtime the results-row name, e.g. executorch-xnnpack or executorch-xnnpack-int8 */
    public ExecuTorchRunner(String runtime) {
        this.runtime = runtime;
    }

    @Override
    public String runtime() {
        return runtime;
    }

    @Override
    public void load(File model, int threads) {
        close();
        // LOAD_MODE_FILE reads the program into memory, as ExecuTorch's own benchmark app does.
        Module loaded = Module.load(model.getAbsolutePath(), Module.LOAD_MODE_FILE, Math.max(0, threads));
        try {
            // Module.load is lazy; loading "forward" here puts program and delegate init in load time.
            loaded.loadMethod("forward");
        } catch (RuntimeException e) {
            loaded.destroy();
            throw e;
        }
        module = loaded;
    }

    @Override
    public Output run(float[] input, long[] shape) {
        if (module == null) {
            throw new IllegalStateException("ExecuTorchRunner.run before load");
        }
        EValue in = EValue.from(Tensor.fromBlob(input, shape));
        long start = System.nanoTime();
        EValue[] out = module.forward(in);
        long elapsed = System.nanoTime() - start;
        if (out.length == 0 || !out[0].isTensor()) {
            throw new IllegalStateException("forward returned no tensor (outputs: " + out.length + ")");
        }
        return new Output(out[0].toTensor().getDataAsFloatArray(), elapsed);
    }

    @Override
    public void close() {
        if (module != null) {
            module.destroy();
            module = null;
        }
    }
}
