// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.os;

public final class PowerManager {
    PowerManager() { throw new RuntimeException("Stub!"); }
    public int getCurrentThermalStatus() { throw new RuntimeException("Stub!"); }
    public float getThermalHeadroom(int forecastSeconds) { throw new RuntimeException("Stub!"); }
    public boolean isInteractive() { throw new RuntimeException("Stub!"); }
}
