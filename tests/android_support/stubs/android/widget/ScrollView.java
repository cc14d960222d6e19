// COMPILE-CHECK STUB, not Android: only the signatures the demo app uses, written from the
// Android API reference (developer.android.com). See tests/android_support/README.md.
package android.widget;

public class ScrollView extends FrameLayout {
    public ScrollView(android.content.Context context) { super(context); throw new RuntimeException("Stub!"); }
    @Override public void addView(android.view.View child) { throw new RuntimeException("Stub!"); }
}
