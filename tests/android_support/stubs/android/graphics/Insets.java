// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.graphics;

public final class Insets {
    public final int left;
    public final int top;
    public final int right;
    public final int bottom;
    Insets() { throw new RuntimeException("Stub!"); }
}
