package org.coordatt.demo;

import android.os.Build;
import android.os.Debug;
import java.io.BufferedReader;
import java.io.FileReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.coordatt.demo.runtime.OrtRunner;

/** The phone and the runtimes, for results rows (device, device_info, machine), and its memory. */
final class DeviceInfo {

    private DeviceInfo() {}

    static String device() {
        return Build.MODEL;
    }

    /** Build.SOC_MODEL on API 31+ (when the vendor fills it in), else Build.HARDWARE. */
    static String soc() {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            String soc = Build.SOC_MODEL;
            if (soc != null && !soc.isEmpty() && !Build.UNKNOWN.equals(soc)) {
                return soc;
            }
        }
        return Build.HARDWARE;
    }

    static String abi() {
        return Build.SUPPORTED_ABIS.length > 0 ? Build.SUPPORTED_ABIS[0] : Build.UNKNOWN;
    }

    /** Pinned versions the APK was built with; ONNX Runtime's as its native library reports it. */
    static Map<String, Object> runtimes() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("executorch", BuildConfig.EXECUTORCH_VERSION);
        String ort = BuildConfig.ONNXRUNTIME_VERSION;
        try {
            ort = OrtRunner.nativeVersion();
        } catch (RuntimeException | LinkageError e) {
            // Keep the pinned version: the row still says what the APK was built with.
        }
        v.put("onnxruntime", ort);
        v.put("litert", BuildConfig.LITERT_VERSION);
        return v;
    }

    /** device_info of a results row: {soc, abi, android, api_level, runtimes}. */
    static Map<String, Object> deviceInfo(Map<String, Object> runtimes) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("soc", soc());
        info.put("abi", abi());
        info.put("android", Build.VERSION.RELEASE);
        info.put("api_level", Build.VERSION.SDK_INT);
        info.put("runtimes", runtimes);
        return info;
    }

    /** The results.json machine object, filled with what a phone has. */
    static Map<String, Object> machine(Map<String, Object> runtimes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", soc());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("isa", cpuFeatures());
        m.put("os", "Android " + Build.VERSION.RELEASE + " (API " + Build.VERSION.SDK_INT + ", "
                + Build.MANUFACTURER + " " + Build.MODEL + ")");
        m.put("python", null);
        m.put("versions", runtimes);
        return m;
    }

    /**
     * The CPU feature flags of /proc/cpuinfo (on arm64 e.g. asimd, asimddp, i8mm: the ones int8
     * kernels use), or an empty list where the file is unreadable.
     */
    static List<String> cpuFeatures() {
        try (BufferedReader r = new BufferedReader(new FileReader("/proc/cpuinfo"))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                int colon = line.indexOf(':');
                String key = colon < 0 ? "" : line.substring(0, colon).trim();
                if (key.equals("Features") || key.equals("flags")) {
                    return new ArrayList<>(Arrays.asList(line.substring(colon + 1).trim().split("\\s+")));
                }
            }
        } catch (IOException e) {
            // Some vendors restrict /proc/cpuinfo; the row keeps an empty list.
        }
        return new ArrayList<>();
    }

    /** The app process's total PSS in MB (Debug.getMemoryInfo), the closest to RSS an app may read. */
    static Double pssMb() {
        Debug.MemoryInfo info = new Debug.MemoryInfo();
        Debug.getMemoryInfo(info);
        int kb = info.getTotalPss();
        return kb > 0 ? kb / 1024.0 : null;
    }

    /** Native heap allocated by malloc in MB (Debug.getNativeHeapAllocatedSize): where runtimes keep models. */
    static Double nativeHeapMb() {
        long bytes = Debug.getNativeHeapAllocatedSize();
        return bytes > 0 ? bytes / (1024.0 * 1024.0) : null;
    }
}
