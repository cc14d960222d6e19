// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.content;

public abstract class Context {
    public abstract android.content.res.AssetManager getAssets();
    public abstract java.io.File getFilesDir();
    public abstract ContentResolver getContentResolver();
    public abstract android.content.res.Resources getResources();
    public static final String POWER_SERVICE = "power";
    public abstract Object getSystemService(String name);
    public abstract Context getApplicationContext();
    public abstract Intent registerReceiver(BroadcastReceiver receiver, IntentFilter filter);
    public abstract android.content.pm.PackageManager getPackageManager();
    public abstract String getPackageName();
}
