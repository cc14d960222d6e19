// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.content;

public abstract class Context {
    public abstract android.content.res.AssetManager getAssets();
    public abstract java.io.File getFilesDir();
    public abstract ContentResolver getContentResolver();
    public abstract android.content.res.Resources getResources();
}
