// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.content.pm;

public abstract class PackageManager {
    public static class NameNotFoundException extends Exception {
        private static final long serialVersionUID = 1L;
        public NameNotFoundException() { throw new RuntimeException("Stub!"); }
    }
    public abstract PackageInfo getPackageInfo(String packageName, int flags) throws NameNotFoundException;
}
