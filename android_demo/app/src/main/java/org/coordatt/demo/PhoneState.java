package org.coordatt.demo;

import android.content.Context;
import android.content.Intent;
import android.content.IntentFilter;
import android.os.BatteryManager;
import android.os.Build;
import android.os.PowerManager;
import java.util.concurrent.atomic.AtomicInteger;
import org.coordatt.demo.bench.JobResult;

/**
 * What the phone is like now, for each results row's "conditions": thermal status (API 29+),
 * thermal headroom (API 30+), battery temperature, whether the screen is on, and whether the
 * benchmark activity stayed in the foreground since the previous reading.
 */
final class PhoneState {

    private final Context context;
    private final PowerManager power;
    private final AtomicInteger pauses = new AtomicInteger();
    private volatile boolean resumed;
    private int pausesSeen;

    PhoneState(Context context) {
        this.context = context.getApplicationContext();
        this.power = (PowerManager) context.getSystemService(Context.POWER_SERVICE);
    }

    void onResume() {
        resumed = true;
    }

    void onPause() {
        resumed = false;
        pauses.incrementAndGet();
    }

    /**
     * Waits up to {@code millis} for the activity to be resumed (a run is started right after
     * onCreate, before onResume); returns whether it is.
     */
    boolean awaitForeground(long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (!resumed && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        return resumed;
    }

    /** A reading; "foreground" is false if the activity is paused now or was paused since the last reading. */
    JobResult.Conditions read() {
        Integer status = null;
        Double headroom = null;
        if (power != null && Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) {
            status = power.getCurrentThermalStatus();
        }
        if (power != null && Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
            float h = power.getThermalHeadroom(0);
            headroom = Float.isNaN(h) ? null : (double) h;  // NaN: not supported, or asked too often
        }
        int now = pauses.get();
        boolean foreground = resumed && now == pausesSeen;
        pausesSeen = now;
        return new JobResult.Conditions(status, headroom, batteryTempC(), power != null && power.isInteractive(),
                foreground);
    }

    /** ACTION_BATTERY_CHANGED is sticky: registering with no receiver returns the last one. */
    private Double batteryTempC() {
        Intent battery = context.registerReceiver(null, new IntentFilter(Intent.ACTION_BATTERY_CHANGED));
        if (battery == null) {
            return null;
        }
        int tenths = battery.getIntExtra(BatteryManager.EXTRA_TEMPERATURE, Integer.MIN_VALUE);
        return tenths == Integer.MIN_VALUE ? null : tenths / 10.0;
    }
}
