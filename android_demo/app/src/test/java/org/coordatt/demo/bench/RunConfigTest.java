package org.coordatt.demo.bench;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.Test;

/** Run settings from the intent extras, and the round-robin block order. */
public class RunConfigTest {

    static RunConfig of(int iters, int threads, int rounds, String runtimes) {
        return RunConfig.of("/data/local/tmp/coordatt", "0f8e2c", iters, 10, threads, rounds, 0, runtimes, null);
    }

    @Test
    public void zeroThreadsIsRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> of(50, 0, -1, null));
        assertTrue(e.getMessage(), e.getMessage().startsWith("threads must be >= 1, got 0"));
        assertTrue(e.getMessage(), e.getMessage().contains("cores/2 in ExecuTorch"));
    }

    @Test
    public void roundsSplitItersAndDefaultLikeTheHarness() {
        assertEquals(5, of(50, 1, -1, null).rounds);
        assertEquals(1, of(7, 1, -1, null).rounds);
        assertEquals(10, of(500, 1, -1, null).rounds);
        assertArrayEquals(new int[] {8, 8, 7}, of(23, 1, 3, null).blockSizes());
        assertThrows(IllegalArgumentException.class, () -> of(5, 1, 6, null));
    }

    @Test
    public void configCarriesTheRunId() {
        Map<String, Object> c = of(50, 2, 5, null).toJson(null);
        assertEquals("0f8e2c", c.get("run_id"));
        assertEquals(10, c.get("block_size"));
        assertEquals(2, c.get("threads"));
        assertTrue(c.containsKey("eval") && c.get("eval") == null);
        assertThrows(IllegalArgumentException.class,
                () -> RunConfig.of("/d", "../x", 50, 10, 1, -1, 0, null, null));
    }

    @Test
    public void runtimeSubsetNamesValidChoices() {
        RunConfig c = of(10, 1, 1, "litert, onnxruntime-xnnpack");
        assertTrue(c.wants("litert") && c.wants("onnxruntime-xnnpack") && !c.wants("onnxruntime"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> of(10, 1, 1, "tflite"));
        assertTrue(e.getMessage(), e.getMessage().contains("choose from executorch-xnnpack,"));
    }

    @Test
    public void roundRobinInterleavesJobs() {
        List<String> order = RoundRobin.order(3, 2).stream().map(Object::toString).collect(Collectors.toList());
        assertEquals(List.of("0:0", "0:1", "0:2", "1:0", "1:1", "1:2"), order);
    }
}
