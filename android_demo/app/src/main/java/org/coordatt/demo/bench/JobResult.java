package org.coordatt.demo.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.coordatt.demo.artifact.Artifact;
import org.coordatt.demo.check.CheckVerdict;

/**
 * What one (artifact, runtime) job measured across its blocks: load time, raw samples, memory
 * against a baseline taken just before each load, the phone's conditions, the check verdict and
 * the on-device accuracy. {@link ResultsDocument} turns it into a results row.
 */
public final class JobResult {

    /** What the phone was like at one moment (nulls where the API level cannot tell). */
    public static final class Conditions {
        public final Integer thermalStatus;
        public final Double thermalHeadroom;
        public final Double batteryTempC;
        public final boolean screenOn;
        public final boolean foreground;

        public Conditions(Integer thermalStatus, Double thermalHeadroom, Double batteryTempC, boolean screenOn,
                boolean foreground) {
            this.thermalStatus = thermalStatus;
            this.thermalHeadroom = thermalHeadroom;
            this.batteryTempC = batteryTempC;
            this.screenOn = screenOn;
            this.foreground = foreground;
        }
    }

    public final Artifact artifact;
    /** Null for an artifact that cannot run (its error says why). */
    public final String runtime;
    public Double loadMs;
    public final List<Double> samplesMs = new ArrayList<>();
    public String error;
    public CheckVerdict check;
    /** top1, top5, top1_agreement, eval_images, eval_skipped; null without an eval folder. */
    public Map<String, Object> eval;

    private Double pssBaseline;
    private Double pssAfterLoad;
    private Double pssPeak;
    private Double pssDelta;
    private Double nativeDelta;
    private Conditions first;
    private Conditions last;
    private boolean screenOnThroughout = true;
    private boolean foregroundThroughout = true;

    public JobResult(Artifact artifact, String runtime, String error) {
        this.artifact = artifact;
        this.runtime = runtime;
        this.error = error;
    }

    public boolean live() {
        return error == null && runtime != null;
    }

    /**
     * Records one block's memory readings (MB, null where unreadable) and conditions at its start
     * and end. The row keeps the block whose PSS rose most above its own baseline.
     */
    public void addBlock(Double baseline, Double afterLoad, Double peak, Double nativeBefore, Double nativeAfter,
            Conditions start, Conditions end) {
        if (baseline != null && peak != null && (pssDelta == null || peak - baseline > pssDelta)) {
            pssBaseline = baseline;
            pssAfterLoad = afterLoad;
            pssPeak = peak;
            pssDelta = peak - baseline;
        }
        if (nativeBefore != null && nativeAfter != null
                && (nativeDelta == null || nativeAfter - nativeBefore > nativeDelta)) {
            nativeDelta = nativeAfter - nativeBefore;
        }
        if (first == null) {
            first = start;
        }
        last = end;
        screenOnThroughout &= start.screenOn && end.screenOn;
        foregroundThroughout &= start.foreground && end.foreground;
    }

    /** The row's "memory" object. */
    public Map<String, Object> memoryJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pss_baseline_mb", pssBaseline);
        m.put("pss_after_load_mb", pssAfterLoad);
        m.put("pss_peak_mb", pssPeak);
        m.put("pss_delta_mb", pssDelta);
        m.put("native_heap_delta_mb", nativeDelta);
        return m;
    }

    /** The row's "conditions" object; null before the first block. */
    public Map<String, Object> conditionsJson() {
        if (first == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("thermal_status_start", first.thermalStatus);
        m.put("thermal_status_end", last.thermalStatus);
        m.put("thermal_headroom_start", first.thermalHeadroom);
        m.put("thermal_headroom_end", last.thermalHeadroom);
        m.put("battery_temp_c", last.batteryTempC);
        m.put("screen_on", screenOnThroughout);
        m.put("foreground", foregroundThroughout);
        return m;
    }
}
