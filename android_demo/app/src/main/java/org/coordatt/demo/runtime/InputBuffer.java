package org.coordatt.demo.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** A direct, native-order float buffer of one input tensor's size, allocated once per load. */
final class InputBuffer {

    final long[] shape;
    final FloatBuffer floats;

    InputBuffer(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException("input shape must be positive, got " + java.util.Arrays.toString(shape));
            }
            n *= d;
        }
        if (n > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("input of " + n + " floats is too large");
        }
        this.shape = shape.clone();
        this.floats = ByteBuffer.allocateDirect((int) n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** Copies {@code input} in; its length must be the tensor's element count. */
    void set(float[] input) {
        if (input.length != floats.capacity()) {
            throw new IllegalArgumentException("input has " + input.length + " values; the model takes "
                    + floats.capacity() + " (" + java.util.Arrays.toString(shape) + ")");
        }
        floats.clear();
        floats.put(input);
        floats.rewind();
    }
}
