// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.os;

public class BatteryManager {
    public static final String EXTRA_TEMPERATURE = "temperature";
    BatteryManager() { throw new RuntimeException("Stub!"); }
}
