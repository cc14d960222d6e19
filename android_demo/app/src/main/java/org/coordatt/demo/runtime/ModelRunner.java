package org.coordatt.demo.runtime;

import java.io.File;

/**
 * One on-device runtime behind one small interface: load a model file, hold one float32 input
 * tensor built once per load, run it, release the native objects. Implementations:
 * {@link ExecuTorchRunner}, {@link OrtRunner}, {@link LiteRtRunner}.
 *
 * <p>Nothing in {@link #run} allocates a tensor or wraps a buffer: the input tensor (over a direct
 * buffer) is made in {@link #load}, {@link #setInput} copies into that buffer, and outputs are
 * copied out only when {@link #output} asks. Not thread-safe: one runner, one thread.
 */
public interface ModelRunner extends AutoCloseable {

    /** The runtime's name in results rows, e.g. {@code executorch-xnnpack}. */
    String runtime();

    /**
     * Loads {@code model}, prepares it to run and builds its input tensor; afterwards the first
     * {@link #run} does no lazy loading.
     *
     * @param inputShape the input's shape from the sidecar, e.g. {1, 3, 224, 224}
     * @param threads CPU threads for inference, >= 1 (0 means different things in each runtime,
     *     so it is refused: see {@link Threads})
     */
    void load(File model, long[] inputShape, int threads) throws Exception;

    /** Copies {@code input} (float32 NCHW, preprocessed) into the loaded input tensor. */
    void setInput(float[] input);

    /** Runs one inference on the current input; returns its System.nanoTime() duration. */
    long run() throws Exception;

    /** The last run's first output, as float32 (a copy the caller may keep). */
    float[] output();

    /** Releases the native model and session objects; safe to call twice. */
    @Override
    void close();
}
