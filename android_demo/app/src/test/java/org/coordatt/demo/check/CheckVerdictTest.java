package org.coordatt.demo.check;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The check file's reader and the export's verdict rules (coordatt/export/verify.py) on the JVM. */
public class CheckVerdictTest {

    @Rule public TemporaryFolder tmp = new TemporaryFolder();

    /** A coordatt.check/1 file as coordatt/check_file.py encodes it: 2 inputs [1, 1, 2, 2], k = 3. */
    static byte[] encode(int rule, double maxRel, double sqnr, double cosine, double top1, float[][] in, float[][] out) {
        int n = in.length;
        ByteBuffer b = ByteBuffer.allocate(96 + 4 * n * (in[0].length + out[0].length)).order(ByteOrder.LITTLE_ENDIAN);
        b.put("COORDCHK".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        b.putInt(1).putInt(96).putInt(n).putInt(1).putInt(2).putInt(2).putInt(out[0].length).putInt(rule);
        b.putDouble(maxRel).putDouble(sqnr).putDouble(cosine).putDouble(top1);
        b.position(96);
        for (float[] x : in) {
            for (float v : x) {
                b.putFloat(v);
            }
        }
        for (float[] y : out) {
            for (float v : y) {
                b.putFloat(v);
            }
        }
        return b.array();
    }

    static final float[][] INPUTS = {{1, 2, 3, 4}, {5, 6, 7, 8}};
    static final float[][] EXPECTED = {{10, 0, -10}, {0, 20, 5}};

    CheckFile fp32() throws Exception {
        return CheckFile.parse("m.pte.check.bin", encode(1, 1e-4, Double.NaN, Double.NaN, Double.NaN, INPUTS, EXPECTED));
    }

    @Test
    public void exactOutputsPass() throws Exception {
        CheckVerdict v = CheckVerdict.judge(fp32(), Arrays.asList(EXPECTED[0].clone(), EXPECTED[1].clone()));
        assertEquals(CheckVerdict.PASSED, v.status);
        assertEquals(0.0, v.maxAbsDiff, 0);
        assertEquals(1.0, v.cosine, 1e-12);
        assertEquals(1.0, v.top1Agreement, 0);
        assertNull(v.flaggedText());
    }

    @Test
    public void wrongOutputsFailAndFlag() throws Exception {
        // 0.01 off at scale 20: 5e-4 relative, over the 1e-4 limit
        CheckVerdict v = CheckVerdict.judge(fp32(), Arrays.asList(new float[] {10, 0, -10}, new float[] {0, 20.01f, 5}));
        assertEquals(CheckVerdict.FAILED, v.status);
        assertEquals(0.01, v.maxAbsDiff, 1e-6);
        assertTrue(v.flaggedText(), v.flaggedText().startsWith("check failed: max abs diff"));
    }

    @Test
    public void nanAndWrongLengthFail() throws Exception {
        assertEquals(CheckVerdict.FAILED, CheckVerdict.judge(fp32(),
                Arrays.asList(new float[] {Float.NaN, 0, 0}, EXPECTED[1])).status);
        CheckVerdict v = CheckVerdict.judge(fp32(), Arrays.asList(new float[2], new float[2]));
        assertEquals(CheckVerdict.FAILED, v.status);
        assertTrue(v.message, v.message.contains("[1, 2]"));
    }

    @Test
    public void int8RuleJudgesSqnrCosineAndAgreement() throws Exception {
        CheckFile data = CheckFile.parse("q.pte.check.bin", encode(2, Double.NaN, 10.0, 0.95, 0.5, INPUTS, EXPECTED));
        List<float[]> close = Arrays.asList(new float[] {9.5f, 0.2f, -10}, new float[] {0.1f, 19.6f, 5});
        assertEquals(CheckVerdict.PASSED, CheckVerdict.judge(data, close).status);
        List<float[]> swapped = Arrays.asList(new float[] {-10, 0, 10}, new float[] {0, 20, 5});
        CheckVerdict v = CheckVerdict.judge(data, swapped);
        assertEquals(CheckVerdict.FAILED, v.status);
        assertEquals(0.5, v.top1Agreement, 0);
    }

    @Test
    public void sha256MismatchAndShapeMismatchAreErrors() throws Exception {
        byte[] blob = encode(1, 1e-4, Double.NaN, Double.NaN, Double.NaN, INPUTS, EXPECTED);
        File f = tmp.newFile("m.pte.check.bin");
        Files.write(f.toPath(), blob);
        String sha = CheckFile.sha256Hex(blob);
        long[] in = {1, 1, 2, 2};
        long[] out = {1, 3};
        assertEquals(2, CheckFile.read(f, sha, in, out).n);
        CheckFile.CheckFileException e = assertThrows(CheckFile.CheckFileException.class,
                () -> CheckFile.read(f, sha.replace(sha.charAt(0), sha.charAt(0) == 'a' ? 'b' : 'a'), in, out));
        assertTrue(e.getMessage(), e.getMessage().contains("does not match the sha256"));
        e = assertThrows(CheckFile.CheckFileException.class, () -> CheckFile.read(f, sha, new long[] {1, 3, 2, 2}, out));
        assertTrue(e.getMessage(), e.getMessage().contains("but the artifact takes [1, 3, 2, 2]"));
        byte[] cut = Arrays.copyOf(blob, blob.length - 4);
        e = assertThrows(CheckFile.CheckFileException.class, () -> CheckFile.parse("c", cut));
        assertTrue(e.getMessage(), e.getMessage().contains("truncated or damaged"));
    }
}
