// COMPILE-CHECK STUB, NOT LITERT. No npm package carries LiteRT's Java classes (see
// tests/android_support/README.md); these are the signatures of org.tensorflow.lite as
// com.google.ai.edge.litert:litert publishes them, limited to what LiteRtRunner calls.
package org.tensorflow.lite;

import java.io.File;

public final class Interpreter implements AutoCloseable {

    public static class Options {
        public Options() {}
        public Options setNumThreads(int numThreads) { throw new UnsupportedOperationException("stub"); }
        public Options setUseXNNPACK(boolean useXNNPACK) { throw new UnsupportedOperationException("stub"); }
    }

    public Interpreter(File modelFile, Options options) { throw new UnsupportedOperationException("stub"); }
    public int getInputTensorCount() { throw new UnsupportedOperationException("stub"); }
    public Tensor getInputTensor(int inputIndex) { throw new UnsupportedOperationException("stub"); }
    public Tensor getOutputTensor(int outputIndex) { throw new UnsupportedOperationException("stub"); }
    public void allocateTensors() { throw new UnsupportedOperationException("stub"); }
    public void run(Object input, Object output) { throw new UnsupportedOperationException("stub"); }
    @Override public void close() { throw new UnsupportedOperationException("stub"); }
}
