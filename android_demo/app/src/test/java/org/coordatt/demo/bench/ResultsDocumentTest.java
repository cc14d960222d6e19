package org.coordatt.demo.bench;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.artifact.ArtifactFinder;
import org.coordatt.demo.artifact.Json;
import org.coordatt.demo.artifact.Sidecar;
import org.coordatt.demo.runtime.ModelRunner;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** A whole run with a fake runner and phone: rows, memory, conditions, run_id, a Gson round trip. */
public class ResultsDocumentTest {

    @Rule public TemporaryFolder tmp = new TemporaryFolder();

    static Map<String, Object> sidecar(String artifact, String format, String backend) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("schema", Sidecar.SCHEMA);
        s.put("artifact", artifact);
        s.put("format", format);
        s.put("model", "tiny");
        s.put("name", "tiny");
        s.put("width_mult", null);
        s.put("num_classes", 2);
        s.put("backend", backend);
        s.put("precision", "fp32");
        s.put("input", Map.of("shape", Arrays.asList(1, 3, 2, 2)));
        s.put("output", Map.of("shape", Arrays.asList(1, 2)));
        s.put("preprocess", Map.of("resize", Arrays.asList(2, 2), "crop", Arrays.asList(2, 2), "scale", 1.0,
                "mean", Arrays.asList(0, 0, 0), "std", Arrays.asList(1, 1, 1)));
        s.put("labels", Arrays.asList("a", "b"));
        return s;
    }

    static final class Fake implements ModelRunner, BenchmarkRun.Platform {
        final List<String> loads = new ArrayList<>();
        String runtime;
        double pss = 50;

        @Override public String runtime() { return runtime; }
        @Override public void load(File model, long[] inputShape, int threads) { loads.add(model.getName() + " " + runtime); }
        @Override public void setInput(float[] input) {}
        @Override public long run() { pss += 1; return 2_000_000; }
        @Override public float[] output() { return new float[] {1, 0}; }
        @Override public void close() {}
        @Override public void gc() {}
        @Override public Double pssMb() { return pss; }
        @Override public Double nativeHeapMb() { return null; }
        @Override public JobResult.Conditions conditions() { return new JobResult.Conditions(null, null, 31.0, true, true); }
        @Override public void sleep(long millis) {}
        @Override public float[] timingInput(Sidecar.Preprocess p) { return new float[12]; }
    }

    @Test
    public void rowsCarryMemoryConditionsCheckAndRunIdThroughGson() throws Exception {
        for (String[] a : new String[][] {{"a.pte", "pte", "xnnpack"}, {"b.onnx", "onnx", "onnx"}}) {
            Files.write(new File(tmp.getRoot(), a[0]).toPath(), new byte[] {0});
            Files.write(new File(tmp.getRoot(), a[0] + ".json").toPath(),
                    Json.write(sidecar(a[0], a[1], a[2])).getBytes(StandardCharsets.UTF_8));
        }
        RunConfig config = RunConfig.of(tmp.getRoot().getPath(), "abc123", 4, 1, 1, 2, 5, null, null);
        Fake fake = new Fake();
        BenchmarkRun run = new BenchmarkRun(config, r -> { fake.runtime = r; return fake; }, fake, null);
        ResultsDocument doc = new ResultsDocument(new LinkedHashMap<>(), config, config.toJson(null), "Phone",
                new LinkedHashMap<>());
        List<Artifact> artifacts = ArtifactFinder.find(tmp.getRoot());
        for (JobResult j : run.jobs(artifacts)) {
            doc.add(j);
        }
        run.run(doc, (round, d) -> { });
        assertEquals(Arrays.asList("a.pte executorch-xnnpack", "b.onnx onnxruntime", "b.onnx onnxruntime-xnnpack",
                "a.pte executorch-xnnpack", "b.onnx onnxruntime", "b.onnx onnxruntime-xnnpack"), fake.loads);

        Map<?, ?> parsed = (Map<?, ?>) Json.parse(doc.toJson(true));
        assertEquals("coordatt.bench/1", parsed.get("schema"));
        assertEquals("abc123", ((Map<?, ?>) parsed.get("config")).get("run_id"));
        List<?> rows = (List<?>) parsed.get("results");
        assertEquals(3, rows.size());
        for (Object o : rows) {
            Map<?, ?> row = (Map<?, ?>) o;
            assertNull(row.get("error"));
            assertEquals(4, ((List<?>) row.get("samples_ms")).size());
            assertEquals(2.0, (Double) row.get("median_ms"), 1e-12);
            assertTrue(row.containsKey("peak_rss_mb") && row.get("peak_rss_mb") == null);
            Map<?, ?> memory = (Map<?, ?>) row.get("memory");
            assertEquals(Arrays.asList("pss_baseline_mb", "pss_after_load_mb", "pss_peak_mb", "pss_delta_mb",
                    "native_heap_delta_mb"), new ArrayList<>(memory.keySet()));
            assertEquals((Double) memory.get("pss_peak_mb") - (Double) memory.get("pss_baseline_mb"),
                    (Double) memory.get("pss_delta_mb"), 1e-12);
            Map<?, ?> conditions = (Map<?, ?>) row.get("conditions");
            assertEquals(Arrays.asList("thermal_status_start", "thermal_status_end", "thermal_headroom_start",
                    "thermal_headroom_end", "battery_temp_c", "screen_on", "foreground"),
                    new ArrayList<>(conditions.keySet()));
            assertEquals(31.0, (Double) conditions.get("battery_temp_c"), 0);
            assertEquals("missing", ((Map<?, ?>) row.get("check")).get("status"));
            assertNull(row.get("flagged"));
        }
        // Gson round trip: what the harness reads back is what was written
        assertEquals(parsed, Json.parse(Json.write(parsed)));
    }
}
