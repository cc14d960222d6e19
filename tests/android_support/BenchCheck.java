// Test support for tests/test_android_compile.py, not part of the app: the benchmark run, check
// file verdict, eval arithmetic and run settings of the app's plain-Java classes, driven with
// scripted runners and a scripted phone, printed as JSON for Python to compare.
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.artifact.ArtifactFinder;
import org.coordatt.demo.artifact.Json;
import org.coordatt.demo.artifact.Labels;
import org.coordatt.demo.artifact.Sidecar;
import org.coordatt.demo.bench.BenchmarkRun;
import org.coordatt.demo.bench.JobResult;
import org.coordatt.demo.bench.ResultsDocument;
import org.coordatt.demo.bench.RunConfig;
import org.coordatt.demo.check.CheckFile;
import org.coordatt.demo.check.CheckVerdict;
import org.coordatt.demo.eval.EvalLabels;
import org.coordatt.demo.eval.EvalTally;
import org.coordatt.demo.runtime.ModelRunner;

final class BenchCheck {

    private BenchCheck() {}

    /**
     * A runner with no runtime behind it. Its output is the first k values of its input (k from the
     * sidecar), so a check file or an eval image decides what it returns; runs on the timing input
     * take their latency from a script, counted per job across blocks.
     */
    static final class ScriptedRunner implements ModelRunner {
        final String runtime;
        final Scripted script;
        File model;
        int k;
        float[] input;

        ScriptedRunner(String runtime, Scripted script) {
            this.runtime = runtime;
            this.script = script;
        }

        @Override public String runtime() { return runtime; }

        @Override public void load(File model, long[] inputShape, int threads) throws IOException {
            this.model = model;
            script.loads.add(model.getName() + " " + runtime);
            if (script.failLoad.contains(model.getName())) {
                throw new IOException("scripted load failure for " + model.getName());
            }
            k = ArtifactFinder.describe(model).sidecar.numClasses;
        }

        @Override public void setInput(float[] values) { input = values; }

        @Override public long run() {
            if (!script.timings.contains(input)) {
                return 1000;
            }
            String key = model.getName() + " " + runtime;
            int n = script.timedCalls.merge(key, 1, Integer::sum) - 1;
            return Math.round(script.latenciesMs[n % script.latenciesMs.length] * 1e6);
        }

        @Override public float[] output() { return java.util.Arrays.copyOf(input, k); }

        @Override public void close() {}
    }

    /** The scripted phone: memory readings count up, conditions as listed. */
    static final class Scripted implements BenchmarkRun.Platform, BenchmarkRun.EvalImages {
        final double[] latenciesMs;
        final List<?> failLoad;
        final List<String> loads = new ArrayList<>();
        final Map<String, Integer> timedCalls = new HashMap<>();
        final List<?> background;
        final Map<?, ?> evalLogits;
        final List<?> undecodable;
        List<EvalLabels.Entry> entries;
        /** The timing inputs handed out (by identity): runs on them are the timed ones. */
        final java.util.Set<float[]> timings = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        int pssCalls;
        int conditionCalls;
        int sleeps;

        Scripted(Map<?, ?> in) {
            latenciesMs = AppCheck.doubles(in.get("latencies_ms"));
            failLoad = (List<?>) in.get("fail_load");
            background = (List<?>) in.get("background_calls");
            evalLogits = (Map<?, ?>) in.get("eval_logits");
            undecodable = (List<?>) in.get("undecodable");
        }

        @Override public void gc() {}
        @Override public Double pssMb() { return 100.0 + pssCalls++; }
        @Override public Double nativeHeapMb() { return 10.0 + 0.5 * pssCalls; }
        @Override public JobResult.Conditions conditions() {
            int call = conditionCalls++;
            boolean foreground = !background.contains((double) call);
            return new JobResult.Conditions(call % 3, 0.25 + call, 30.5, true, foreground);
        }
        @Override public void sleep(long millis) { sleeps++; }
        @Override public float[] timingInput(Sidecar.Preprocess p) {
            float[] timing = new float[3 * p.cropH * p.cropW];
            timings.add(timing);
            return timing;
        }
        @Override public List<EvalLabels.Entry> entries() { return entries; }
        @Override public float[] input(EvalLabels.Entry e, Sidecar.Preprocess p) throws IOException {
            if (undecodable.contains(e.file)) {
                throw new IOException("not a decodable image");
            }
            double[] logits = AppCheck.doubles(evalLogits.get(e.file));
            float[] x = new float[3 * p.cropH * p.cropW];
            for (int i = 0; i < logits.length; i++) {
                x[i] = (float) logits[i];
            }
            return x;
        }
    }

    static RunConfig runConfig(Map<?, ?> in) {
        return RunConfig.of((String) in.get("dir"), (String) in.get("run_id"), num(in, "iters"), num(in, "warmup"),
                num(in, "threads"), in.get("rounds") == null ? -1 : num(in, "rounds"), num(in, "cooldown_ms"),
                (String) in.get("runtimes"), (String) in.get("eval_dir"));
    }

    static int num(Map<?, ?> in, String key) {
        return ((Number) in.get(key)).intValue();
    }

    /** {"iters", "warmup", "threads", "rounds"?, "cooldown_ms", "runtimes", "run_id"}: the config object, or the refusal. */
    static String config(Map<?, ?> in) {
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            RunConfig c = runConfig(in);
            out.put("config", c.toJson(null));
            out.put("block_sizes", c.blockSizes());
        } catch (IllegalArgumentException e) {
            out.put("error", e.getMessage());
        }
        return Json.write(out);
    }

    /**
     * The benchmark run end to end with scripted runners and phone: {"dir", "out", run settings,
     * "latencies_ms", "fail_load", "background_calls", "eval_csv" (or null), "eval_logits",
     * "undecodable"}. Writes the results file; prints the load order, sleeps and summaries.
     */
    static String bench(Map<?, ?> in) throws Exception {
        RunConfig config = runConfig(in);
        Scripted phone = new Scripted(in);
        Map<String, Object> evalConfig = null;
        if (in.get("eval_csv") != null) {
            phone.entries = EvalLabels.parse((String) in.get("eval_csv"));
            evalConfig = new LinkedHashMap<>();
            evalConfig.put("dir", config.evalDir);
            evalConfig.put("images", phone.entries.size());
        }
        Map<String, Object> runtimes = new LinkedHashMap<>();
        runtimes.put("executorch", "1.5.1");
        runtimes.put("onnxruntime", "1.29.0");
        runtimes.put("litert", "2.3.0");
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("soc", "TestSoC");
        info.put("abi", "arm64-v8a");
        info.put("android", "15");
        info.put("runtimes", runtimes);
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cpu", "TestSoC");
        machine.put("cores", 8);
        machine.put("isa", new ArrayList<>());
        machine.put("os", "Android 15");
        machine.put("python", null);
        machine.put("versions", runtimes);
        ResultsDocument doc = new ResultsDocument(machine, config, config.toJson(evalConfig), "Test Phone", info);
        BenchmarkRun run = new BenchmarkRun(config, runtime -> new ScriptedRunner(runtime, phone), phone,
                evalConfig == null ? null : phone);
        List<Artifact> artifacts = ArtifactFinder.find(new File(config.modelDir));
        for (JobResult job : run.jobs(artifacts)) {
            doc.add(job);
        }
        List<Object> partials = new ArrayList<>();
        File out = new File((String) in.get("out"));
        run.run(doc, (round, d) -> partials.add(Json.parse(d.toJson(false))));
        ResultsDocument.writeAtomically(out, doc.toJson(true));
        List<Object> summaries = new ArrayList<>();
        for (Map<String, Object> row : doc.rows()) {
            summaries.add(ResultsDocument.summary(row));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("loads", phone.loads);
        result.put("sleeps", phone.sleeps);
        result.put("partial_rounds", partials.size());
        result.put("summaries", summaries);
        return Json.write(result);
    }

    /** {"file", "sha256", "input_shape", "output_shape", "outputs": [[...], ...]}: the verdict row. */
    static String check(Map<?, ?> in) throws IOException {
        CheckVerdict verdict;
        try {
            CheckFile data = CheckFile.read(new File((String) in.get("file")), (String) in.get("sha256"),
                    longs(in.get("input_shape")), longs(in.get("output_shape")));
            List<float[]> outputs = new ArrayList<>();
            for (Object o : (List<?>) in.get("outputs")) {
                double[] d = AppCheck.doubles(o);
                float[] f = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    f[i] = (float) d[i];
                }
                outputs.add(f);
            }
            verdict = CheckVerdict.judge(data, outputs);
        } catch (CheckFile.CheckFileException e) {
            verdict = CheckVerdict.error(new File((String) in.get("file")).getName(), e.getMessage());
        }
        Map<String, Object> out = new LinkedHashMap<>(verdict.toRow());
        out.put("sqnr_db", verdict.sqnrDb);
        out.put("flagged", verdict.flaggedText());
        return Json.write(out);
    }

    /** {"csv", "labels", "logits": {file: [...]}, "undecodable": [file]}: the eval fields of a row. */
    static String eval(Map<?, ?> in) {
        List<String> names = new ArrayList<>();
        for (Object o : (List<?>) in.get("labels")) {
            names.add((String) o);
        }
        EvalTally tally = new EvalTally(Labels.of(names));
        Map<?, ?> logits = (Map<?, ?>) in.get("logits");
        List<?> undecodable = (List<?>) in.get("undecodable");
        for (EvalLabels.Entry e : EvalLabels.parse((String) in.get("csv"))) {
            if (!tally.knows(e.className) || undecodable.contains(e.file)) {
                tally.skip();
                continue;
            }
            double[] d = AppCheck.doubles(logits.get(e.file));
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            tally.add(e.className, e.eagerTop1, f);
        }
        return Json.write(tally.toRow());
    }

    static long[] longs(Object list) {
        double[] d = AppCheck.doubles(list);
        long[] out = new long[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (long) d[i];
        }
        return out;
    }
}
