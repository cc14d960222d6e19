package org.coordatt.demo;

import android.app.Activity;
import android.content.ActivityNotFoundException;
import android.content.Intent;
import android.graphics.Bitmap;
import android.graphics.Color;
import android.graphics.Insets;
import android.graphics.Typeface;
import android.net.Uri;
import android.os.Build;
import android.os.Bundle;
import android.provider.MediaStore;
import android.view.View;
import android.view.WindowInsets;
import android.widget.Button;
import android.widget.ImageView;
import android.widget.LinearLayout;
import android.widget.ScrollView;
import android.widget.TextView;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.classify.Classifier;
import org.coordatt.demo.classify.ReportText;

/**
 * Classifies a photo (the bundled sample, one from the gallery, or a camera thumbnail) with every
 * model the app finds, and shows each runtime's top-5 and latency side by side.
 *
 * <p>UI only: models are found by {@link ModelLibrary}, run by {@link Classifier} on one background
 * thread, so the UI thread never waits on inference and runners are used from a single thread.
 */
public final class MainActivity extends Activity {

    static final String SAMPLE_ASSET = "chelsea.jpg";
    private static final int REQUEST_GALLERY = 1;
    private static final int REQUEST_CAMERA = 2;
    private static final int TOP_K = 5;
    private static final int WARMUP = 3;
    private static final int RUNS = 10;

    private final ExecutorService inference = Executors.newSingleThreadExecutor();
    // Touched only on the inference thread.
    private Classifier classifier;
    private List<Artifact> artifacts = new ArrayList<>();

    private TextView status;
    private TextView warning;
    private TextView latency;
    private TextView predictions;
    private ImageView preview;
    private Bitmap image;

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        setContentView(buildViews());
        int threads = Math.min(4, Runtime.getRuntime().availableProcessors());
        setStatus("Looking for models in assets/models and " + ModelLibrary.PUSH_DIR + " ...");
        inference.execute(() -> {
            classifier = new Classifier(threads, WARMUP, RUNS);
            artifacts = ModelLibrary.findAll(this);
            String found = describeFound(artifacts);
            String note = ReportText.weightsWarning(artifacts);
            runOnUiThread(() -> {
                if (isDestroyed()) {
                    return;
                }
                setStatus(found);
                warning.setText(note == null ? "" : note);
                warning.setVisibility(note == null ? View.GONE : View.VISIBLE);
            });
        });
        loadSample();
    }

    @Override
    protected void onDestroy() {
        // Queued after any running classification, so runners close on the thread that uses them.
        inference.execute(() -> {
            if (classifier != null) {
                classifier.close();
            }
        });
        inference.shutdown();
        super.onDestroy();
    }

    @Override
    protected void onActivityResult(int requestCode, int resultCode, Intent data) {
        super.onActivityResult(requestCode, resultCode, data);
        if (resultCode != RESULT_OK || data == null) {
            return;
        }
        if (requestCode == REQUEST_GALLERY && data.getData() != null) {
            Uri uri = data.getData();
            decodeThenClassify(() -> getContentResolver().openInputStream(uri), uri.getLastPathSegment());
        } else if (requestCode == REQUEST_CAMERA && data.getExtras() != null) {
            Object thumbnail = data.getExtras().get("data");
            if (thumbnail instanceof Bitmap) {
                showAndClassify((Bitmap) thumbnail, "camera thumbnail");
            } else {
                setStatus("The camera app returned no thumbnail.");
            }
        }
    }

    private void loadSample() {
        decodeThenClassify(() -> getAssets().open(SAMPLE_ASSET), "sample: " + SAMPLE_ASSET);
    }

    private void pickFromGallery() {
        Intent intent;
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            intent = new Intent(MediaStore.ACTION_PICK_IMAGES);
        } else {
            intent = new Intent(Intent.ACTION_GET_CONTENT).setType("image/*").addCategory(Intent.CATEGORY_OPENABLE);
        }
        startForResult(intent, REQUEST_GALLERY, "No photo picker on this device.");
    }

    private void takePhoto() {
        startForResult(new Intent(MediaStore.ACTION_IMAGE_CAPTURE), REQUEST_CAMERA, "No camera app on this device.");
    }

    private void startForResult(Intent intent, int request, String missing) {
        try {
            startActivityForResult(intent, request);
        } catch (ActivityNotFoundException e) {
            setStatus(missing);
        }
    }

    private void decodeThenClassify(BitmapInput.Source source, String name) {
        setStatus("Decoding " + name + " ...");
        inference.execute(() -> {
            try {
                Bitmap decoded = BitmapInput.decode(source, 256);
                runOnUiThread(() -> showAndClassify(decoded, name));
            } catch (IOException | RuntimeException e) {
                runOnUiThread(() -> setStatus("Cannot read " + name + ": " + e.getMessage()));
            }
        });
    }

    private void showAndClassify(Bitmap bitmap, String name) {
        if (isDestroyed()) {
            return;
        }
        image = bitmap;
        preview.setImageBitmap(bitmap);
        classify(name);
    }

    private void classify(String name) {
        Bitmap current = image;
        if (isDestroyed()) {
            return;
        }
        if (current == null) {
            setStatus("No image yet.");
            return;
        }
        setStatus("Classifying " + name + " ...");
        inference.execute(() -> {
            if (artifacts.isEmpty()) {
                runOnUiThread(() -> {
                    setStatus("No models found. Push them with:\nadb push artifacts/*.pte artifacts/*.onnx artifacts/*.tflite artifacts/*.json "
                            + ModelLibrary.PUSH_DIR + "/\nthen tap Classify.");
                    latency.setText("");
                    predictions.setText("");
                });
                return;
            }
            if (!ModelLibrary.INFERENCE.tryAcquire()) {
                runOnUiThread(() -> setStatus("A benchmark run is using the runtimes; classify when it ends."));
                return;
            }
            List<Classifier.Result> results;
            try {
                results = classifier.classifyAll(artifacts, preprocess -> BitmapInput.toInput(current, preprocess), TOP_K);
            } finally {
                ModelLibrary.INFERENCE.release();
            }
            String table = ReportText.latencyTable(results, RUNS);
            // Each model's own class names, from its sidecar.
            String top = ReportText.topK(results);
            runOnUiThread(() -> {
                setStatus(name);
                latency.setText(table);
                predictions.setText(top);
            });
        });
    }

    /** Re-scans the model folders, then classifies the current image. */
    private void rescanAndClassify() {
        inference.execute(() -> {
            classifier.close();
            List<Artifact> found = ModelLibrary.findAll(this);
            artifacts = found;
            String note = ReportText.weightsWarning(found);
            String label = describeFound(found);
            runOnUiThread(() -> {
                if (isDestroyed()) {
                    return;
                }
                warning.setText(note == null ? "" : note);
                warning.setVisibility(note == null ? View.GONE : View.VISIBLE);
                classify(label);
            });
        });
    }

    private static String describeFound(List<Artifact> found) {
        int usable = 0;
        for (Artifact a : found) {
            if (a.error == null) {
                usable++;
            }
        }
        return found.size() + " model file(s) found, " + usable + " usable";
    }

    private void setStatus(String text) {
        if (!isDestroyed()) {
            status.setText(text);
        }
    }

    private View buildViews() {
        int pad = (int) (12 * getResources().getDisplayMetrics().density);
        LinearLayout column = new LinearLayout(this);
        column.setOrientation(LinearLayout.VERTICAL);
        column.setPadding(pad, pad, pad, pad);

        LinearLayout buttons = new LinearLayout(this);
        buttons.setOrientation(LinearLayout.HORIZONTAL);
        buttons.addView(button("Sample", v -> loadSample()));
        buttons.addView(button("Gallery", v -> pickFromGallery()));
        buttons.addView(button("Camera", v -> takePhoto()));
        buttons.addView(button("Classify", v -> rescanAndClassify()));
        column.addView(buttons);

        status = new TextView(this);
        column.addView(status);

        warning = new TextView(this);
        warning.setTextColor(Color.rgb(0xB0, 0x00, 0x20));
        warning.setTypeface(Typeface.DEFAULT_BOLD);
        warning.setVisibility(View.GONE);
        column.addView(warning);

        preview = new ImageView(this);
        preview.setAdjustViewBounds(true);
        preview.setMaxHeight((int) (240 * getResources().getDisplayMetrics().density));
        column.addView(preview);

        latency = new TextView(this);
        latency.setTypeface(Typeface.MONOSPACE);
        latency.setTextSize(11);
        column.addView(latency);

        predictions = new TextView(this);
        predictions.setTypeface(Typeface.MONOSPACE);
        predictions.setTextSize(12);
        column.addView(predictions);

        ScrollView scroll = new ScrollView(this);
        scroll.addView(column);
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
            // targetSdk 35 draws edge to edge on Android 15: keep the content clear of the status
            // bar, the navigation bar and a display cutout.
            scroll.setOnApplyWindowInsetsListener((v, insets) -> {
                Insets bars = insets.getInsets(WindowInsets.Type.systemBars() | WindowInsets.Type.displayCutout());
                v.setPadding(bars.left, bars.top, bars.right, bars.bottom);
                return WindowInsets.CONSUMED;
            });
        }
        return scroll;
    }

    private Button button(String label, View.OnClickListener onClick) {
        Button b = new Button(this);
        b.setText(label);
        b.setAllCaps(false);
        b.setOnClickListener(onClick);
        return b;
    }
}
