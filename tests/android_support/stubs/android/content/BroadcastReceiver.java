// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.content;

public abstract class BroadcastReceiver {
    public BroadcastReceiver() { throw new RuntimeException("Stub!"); }
    public abstract void onReceive(Context context, Intent intent);
}
