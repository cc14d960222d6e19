// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.widget;

public class ImageView extends android.view.View {
    public ImageView(android.content.Context context) { super(context); throw new RuntimeException("Stub!"); }
    public void setImageBitmap(android.graphics.Bitmap bm) { throw new RuntimeException("Stub!"); }
    public void setAdjustViewBounds(boolean adjustViewBounds) { throw new RuntimeException("Stub!"); }
    public void setMaxHeight(int maxHeight) { throw new RuntimeException("Stub!"); }
}
