// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.os;

public class Build {
    public static final String UNKNOWN = "unknown";
    public static final String MODEL = null;
    public static final String MANUFACTURER = null;
    public static final String HARDWARE = null;
    public static final String SOC_MODEL = null;
    public static final String[] SUPPORTED_ABIS = null;

    public static class VERSION {
        public static final int SDK_INT = 0;
        public static final String RELEASE = null;
    }

    public static class VERSION_CODES {
        public static final int O_MR1 = 27;
        public static final int Q = 29;
        public static final int R = 30;
        public static final int S = 31;
        public static final int TIRAMISU = 33;
    }
}
