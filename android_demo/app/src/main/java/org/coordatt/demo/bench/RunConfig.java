package org.coordatt.demo.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.coordatt.demo.runtime.Runners;
import org.coordatt.demo.runtime.Threads;

/**
 * One benchmark run's settings, from the intent extras of the harness contract (docs/formats.md
 * "Android benchmark run"): iters timed runs per (artifact, runtime) split into {@code rounds}
 * blocks interleaved across them, {@code warmup} untimed runs after each load, {@code threads}
 * >= 1, {@code cooldownMs} between blocks, an optional runtime subset and eval folder.
 */
public final class RunConfig {

    public final String modelDir;
    public final String runId;
    public final int iters;
    public final int warmup;
    public final int threads;
    public final int rounds;
    public final int cooldownMs;
    /** The runtimes to run (empty: every runtime that can run a pushed artifact). */
    public final List<String> runtimes;
    /** The eval folder, or null. */
    public final String evalDir;

    private RunConfig(String modelDir, String runId, int iters, int warmup, int threads, int rounds,
            int cooldownMs, List<String> runtimes, String evalDir) {
        this.modelDir = modelDir;
        this.runId = runId;
        this.iters = iters;
        this.warmup = warmup;
        this.threads = threads;
        this.rounds = rounds;
        this.cooldownMs = cooldownMs;
        this.runtimes = runtimes;
        this.evalDir = evalDir;
    }

    /** The harness's default: iters / 10 blocks, at least 1, at most 10. */
    public static int defaultRounds(int iters) {
        return Math.max(1, Math.min(10, iters / 10));
    }

    /**
     * Checks every setting.
     *
     * @param rounds a count, or a negative number for {@link #defaultRounds}
     * @param runtimes comma-separated runtime names, or null/empty for all
     * @throws IllegalArgumentException one line naming the setting and what it accepts
     */
    public static RunConfig of(String modelDir, String runId, int iters, int warmup, int threads, int rounds,
            int cooldownMs, String runtimes, String evalDir) {
        if (runId == null || !runId.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new IllegalArgumentException("run_id must be 1-64 letters, digits, '-' or '_' (the harness passes"
                    + " a uuid4 hex), got " + (runId == null ? "none" : "'" + runId + "'"));
        }
        if (iters < 1 || warmup < 0) {
            throw new IllegalArgumentException("need iters >= 1 and warmup >= 0, got iters=" + iters + " warmup=" + warmup);
        }
        Threads.require(threads);
        int r = rounds < 0 ? defaultRounds(iters) : rounds;
        if (r < 1 || r > iters) {
            throw new IllegalArgumentException("rounds must be between 1 and iters (" + iters + "), got " + rounds);
        }
        if (cooldownMs < 0) {
            throw new IllegalArgumentException("cooldown_ms must be >= 0, got " + cooldownMs);
        }
        List<String> names = new ArrayList<>();
        if (runtimes != null && !runtimes.trim().isEmpty()) {
            for (String name : runtimes.split(",")) {
                String n = name.trim();
                if (!Runners.NAMES.contains(n)) {
                    throw new IllegalArgumentException("unknown runtime '" + n + "' in runtimes; choose from "
                            + String.join(", ", Runners.NAMES));
                }
                if (!names.contains(n)) {
                    names.add(n);
                }
            }
        }
        return new RunConfig(modelDir, runId, iters, warmup, threads, r, cooldownMs,
                Collections.unmodifiableList(names), evalDir == null || evalDir.isEmpty() ? null : evalDir);
    }

    /** Whether {@code runtime} is to run (no subset given: all). */
    public boolean wants(String runtime) {
        return runtimes.isEmpty() || runtimes.contains(runtime);
    }

    /** The timed runs of each block: {@code iters} split into {@code rounds} sizes differing by at most one. */
    public int[] blockSizes() {
        int[] sizes = new int[rounds];
        for (int b = 0; b < rounds; b++) {
            sizes[b] = iters / rounds + (b < iters % rounds ? 1 : 0);
        }
        return sizes;
    }

    /** The results file's config object; {@code eval} is null without an eval folder. */
    public Map<String, Object> toJson(Map<String, Object> eval) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("warmup", warmup);
        c.put("iters", iters);
        // the largest block (iters / rounds when it divides evenly)
        c.put("block_size", (iters + rounds - 1) / rounds);
        c.put("rounds", rounds);
        c.put("cooldown_ms", cooldownMs);
        c.put("threads", threads);
        c.put("run_id", runId);
        c.put("eval", eval);
        return c;
    }
}
