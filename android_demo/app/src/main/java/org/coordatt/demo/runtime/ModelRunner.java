package org.coordatt.demo.runtime;

import java.io.File;

/**
 * One on-device runtime behind one small interface: load a model file, run one float32 input,
 * release the native objects. Implementations: {@link ExecuTorchRunner}, {@link OrtRunner}.
 *
 * <p>Not thread-safe: use one runner from one thread (the app's inference executor).
 */
public interface ModelRunner extends AutoCloseable {

    /** The runtime's name in results rows, e.g. {@code executorch-xnnpack}. */
    String runtime();

    /**
     * Loads {@code model} and prepares it to run; afterwards the first {@link #run} does no
     * lazy loading.
     *
     * @param threads CPU threads for inference; 0 lets the runtime choose
     */
    void load(File model, int threads) throws Exception;

    /**
     * Runs one inference.
     *
     * @param input float32 [N, C, H, W], row-major, already preprocessed (see
     *     {@code artifact.Preprocessing})
     * @param shape the input's shape, e.g. {1, 3, 224, 224}
     */
    Output run(float[] input, long[] shape) throws Exception;

    /** Releases the native model and session objects; safe to call twice. */
    @Override
    void close();

    /** One run's logits and the time spent in the runtime's inference call alone. */
    final class Output {
        public final float[] logits;
        /** System.nanoTime() around forward()/run() only: no input copy, no output copy. */
        public final long inferenceNanos;

        public Output(float[] logits, long inferenceNanos) {
            this.logits = logits;
            this.inferenceNanos = inferenceNanos;
        }
    }
}
