// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.widget;

public class TextView extends android.view.View {
    public TextView(android.content.Context context) { super(context); throw new RuntimeException("Stub!"); }
    public final void setText(CharSequence text) { throw new RuntimeException("Stub!"); }
    public void setTextColor(int color) { throw new RuntimeException("Stub!"); }
    public void setTypeface(android.graphics.Typeface tf) { throw new RuntimeException("Stub!"); }
    public void setTextSize(float size) { throw new RuntimeException("Stub!"); }
    public void setAllCaps(boolean allCaps) { throw new RuntimeException("Stub!"); }
}
