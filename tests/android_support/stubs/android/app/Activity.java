// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.app;

public class Activity extends android.view.ContextThemeWrapper {
    public static final int RESULT_OK = -1;
    public Activity() { throw new RuntimeException("Stub!"); }
    protected void onCreate(android.os.Bundle savedInstanceState) { throw new RuntimeException("Stub!"); }
    protected void onDestroy() { throw new RuntimeException("Stub!"); }
    protected void onResume() { throw new RuntimeException("Stub!"); }
    protected void onPause() { throw new RuntimeException("Stub!"); }
    public void setShowWhenLocked(boolean showWhenLocked) { throw new RuntimeException("Stub!"); }
    public void setTurnScreenOn(boolean turnScreenOn) { throw new RuntimeException("Stub!"); }
    protected void onActivityResult(int requestCode, int resultCode, android.content.Intent data) { throw new RuntimeException("Stub!"); }
    public void setContentView(android.view.View view) { throw new RuntimeException("Stub!"); }
    public android.view.Window getWindow() { throw new RuntimeException("Stub!"); }
    public android.content.Intent getIntent() { throw new RuntimeException("Stub!"); }
    public final void runOnUiThread(Runnable action) { throw new RuntimeException("Stub!"); }
    public void finish() { throw new RuntimeException("Stub!"); }
    public boolean isDestroyed() { throw new RuntimeException("Stub!"); }
    public void startActivityForResult(android.content.Intent intent, int requestCode) { throw new RuntimeException("Stub!"); }
}
