// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.os;

public final class Bundle {
    @Deprecated public Object get(String key) { throw new RuntimeException("Stub!"); }
}
