// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.view;

public final class WindowInsets {
    public static final WindowInsets CONSUMED = null;
    WindowInsets() { throw new RuntimeException("Stub!"); }
    public android.graphics.Insets getInsets(int typeMask) { throw new RuntimeException("Stub!"); }
    public static final class Type {
        Type() { throw new RuntimeException("Stub!"); }
        public static int systemBars() { throw new RuntimeException("Stub!"); }
        public static int displayCutout() { throw new RuntimeException("Stub!"); }
    }
}
