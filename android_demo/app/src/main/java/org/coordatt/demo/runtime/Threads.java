package org.coordatt.demo.runtime;

/** The one meaning the app gives a thread count: exactly that many inference threads. */
public final class Threads {

    private Threads() {}

    /**
     * @throws IllegalArgumentException for threads < 1, with the reason: 0 has no single
     *     meaning (ExecuTorch: cores / 2; ONNX Runtime: its own default; LiteRT: 1)
     */
    public static int require(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads
                    + ": 0 means cores/2 in ExecuTorch, its own default in ONNX Runtime and 1 in"
                    + " LiteRT, so the app takes no 0; give the count to measure");
        }
        return threads;
    }
}
