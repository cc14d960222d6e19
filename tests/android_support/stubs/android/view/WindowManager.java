// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.view;

public interface WindowManager {
    class LayoutParams {
        public static final int FLAG_KEEP_SCREEN_ON = 0x00000080;
        @Deprecated public static final int FLAG_SHOW_WHEN_LOCKED = 0x00080000;
        @Deprecated public static final int FLAG_TURN_SCREEN_ON = 0x00200000;
    }
}
