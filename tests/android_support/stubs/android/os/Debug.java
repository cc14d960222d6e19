// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.os;

public final class Debug {
    public static void getMemoryInfo(MemoryInfo memoryInfo) { throw new RuntimeException("Stub!"); }
    public static long getNativeHeapAllocatedSize() { throw new RuntimeException("Stub!"); }

    public static class MemoryInfo {
        public MemoryInfo() { throw new RuntimeException("Stub!"); }
        public int getTotalPss() { throw new RuntimeException("Stub!"); }
    }
}
