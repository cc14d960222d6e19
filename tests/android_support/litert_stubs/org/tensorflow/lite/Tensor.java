// COMPILE-CHECK STUB, NOT LITERT (see Interpreter.java here).
package org.tensorflow.lite;

public interface Tensor {

    class QuantizationParams {
        public QuantizationParams(float scale, int zeroPoint) { throw new UnsupportedOperationException("stub"); }
        public float getScale() { throw new UnsupportedOperationException("stub"); }
        public int getZeroPoint() { throw new UnsupportedOperationException("stub"); }
    }

    DataType dataType();
    int numBytes();
    int numElements();
    int[] shape();
    QuantizationParams quantizationParams();
}
