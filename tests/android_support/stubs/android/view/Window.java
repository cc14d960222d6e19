// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.view;

public abstract class Window {
    public void addFlags(int flags) { throw new RuntimeException("Stub!"); }
}
