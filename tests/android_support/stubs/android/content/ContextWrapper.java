// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.content;

public class ContextWrapper extends Context {
    public ContextWrapper(Context base) { throw new RuntimeException("Stub!"); }
    @Override public android.content.res.AssetManager getAssets() { throw new RuntimeException("Stub!"); }
    @Override public java.io.File getFilesDir() { throw new RuntimeException("Stub!"); }
    @Override public ContentResolver getContentResolver() { throw new RuntimeException("Stub!"); }
    @Override public android.content.res.Resources getResources() { throw new RuntimeException("Stub!"); }
    @Override public Object getSystemService(String name) { throw new RuntimeException("Stub!"); }
    @Override public Context getApplicationContext() { throw new RuntimeException("Stub!"); }
    @Override public Intent registerReceiver(BroadcastReceiver receiver, IntentFilter filter) { throw new RuntimeException("Stub!"); }
    @Override public android.content.pm.PackageManager getPackageManager() { throw new RuntimeException("Stub!"); }
    @Override public String getPackageName() { throw new RuntimeException("Stub!"); }
}
