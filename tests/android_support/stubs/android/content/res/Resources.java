// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.content.res;

public class Resources {
    public android.util.DisplayMetrics getDisplayMetrics() { throw new RuntimeException("Stub!"); }
}
