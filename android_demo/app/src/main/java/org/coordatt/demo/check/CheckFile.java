package org.coordatt.demo.check;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * An artifact's check file ({@code <artifact>.check.bin}, {@code coordatt.check/1}, docs/formats.md
 * "Check file"; written by coordatt/check_file.py): the export's verification inputs, exactly as
 * preprocessed, eager PyTorch's fp32 logits on them and the rule that judges an artifact's
 * outputs. Little-endian: a 96-byte header, then float32 inputs [n, c, h, w], then float32
 * expected outputs [n, k].
 */
public final class CheckFile {

    public static final String FORMAT = "coordatt.check/1";
    static final byte[] MAGIC = {'C', 'O', 'O', 'R', 'D', 'C', 'H', 'K'};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 96;
    private static final int MAX_DIM = 1 << 16;
    private static final long MAX_BYTES = 1L << 31;

    /** The header's rule codes. */
    public static final int RULE_FP32 = 1;
    public static final int RULE_INT8 = 2;

    /** Why a check file cannot be used (damaged, sha256 mismatch, wrong shapes). */
    public static final class CheckFileException extends Exception {
        private static final long serialVersionUID = 1L;

        public CheckFileException(String message) {
            super(message);
        }
    }

    public final String name;
    public final int n;
    public final long[] inputShape;
    public final long[] outputShape;
    /** "fp32" or "int8". */
    public final String rule;
    /** fp32: max |y - r| <= maxRelDiff x max |r|. NaN for int8. */
    public final double maxRelDiff;
    /** int8: SQNR floor in dB; NaN for fp32. */
    public final double minSqnrDb;
    /** int8: floor of the lowest per-input cosine; NaN for fp32. */
    public final double minCosine;
    /** int8: floor of the top-1 agreement; NaN when not judged (untrained weights). */
    public final double minTop1Agreement;
    /** n inputs of c*h*w floats each (NCHW). */
    public final float[][] inputs;
    /** n expected outputs of k floats each. */
    public final float[][] expected;

    private CheckFile(String name, ByteBuffer b) throws CheckFileException {
        this.name = name;
        int headerBytes = b.getInt(12);
        n = b.getInt(16);
        int c = b.getInt(20);
        int h = b.getInt(24);
        int w = b.getInt(28);
        int k = b.getInt(32);
        int code = b.getInt(36);
        maxRelDiff = b.getDouble(40);
        minSqnrDb = b.getDouble(48);
        minCosine = b.getDouble(56);
        minTop1Agreement = b.getDouble(64);
        for (int d : new int[] {n, c, h, w, k}) {
            if (d < 1 || d > MAX_DIM) {
                throw damaged("shape [" + n + ", " + c + ", " + h + ", " + w + "], " + k + " outputs");
            }
        }
        if (headerBytes < HEADER_BYTES || (code != RULE_FP32 && code != RULE_INT8)) {
            throw damaged("header size " + headerBytes + ", rule " + code);
        }
        rule = code == RULE_FP32 ? "fp32" : "int8";
        if (code == RULE_FP32 ? Double.isNaN(maxRelDiff) : Double.isNaN(minSqnrDb) || Double.isNaN(minCosine)) {
            throw damaged("rule " + rule + " without its thresholds");
        }
        long size = headerBytes + 4L * n * ((long) c * h * w + k);
        if (b.capacity() != size) {
            throw new CheckFileException(name + " is " + b.capacity() + " bytes; its header says " + size
                    + " (truncated or damaged)");
        }
        inputShape = new long[] {1, c, h, w};
        outputShape = new long[] {1, k};
        int per = c * h * w;
        inputs = new float[n][per];
        expected = new float[n][k];
        b.position(headerBytes);
        for (float[] x : inputs) {
            b.asFloatBuffer().get(x);
            b.position(b.position() + 4 * per);
        }
        for (float[] y : expected) {
            b.asFloatBuffer().get(y);
            b.position(b.position() + 4 * k);
        }
    }

    private CheckFileException damaged(String what) {
        return new CheckFileException(name + " has a damaged header (" + what + ")");
    }

    /**
     * Parses a check file's bytes.
     *
     * @throws CheckFileException naming what is wrong
     */
    public static CheckFile parse(String name, byte[] blob) throws CheckFileException {
        if (blob.length < HEADER_BYTES || !Arrays.equals(Arrays.copyOf(blob, MAGIC.length), MAGIC)) {
            throw new CheckFileException(name + " is not a coordatt check file (no COORDCHK header)");
        }
        ByteBuffer b = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        int version = b.getInt(8);
        if (version != VERSION) {
            throw new CheckFileException(name + " is check file version " + version + "; this app reads version "
                    + VERSION);
        }
        return new CheckFile(name, b);
    }

    /**
     * Reads {@code file}, checks it against the sha256 the sidecar recorded and its shapes against
     * the artifact's, as coordatt-eval --check does.
     *
     * @throws CheckFileException a sha256 mismatch (corrupt or modified), a damaged file, shapes that
     *     are not the artifact's
     */
    public static CheckFile read(File file, String sha256, long[] inputShape, long[] outputShape)
            throws CheckFileException, IOException {
        if (file.length() > MAX_BYTES) {
            throw new CheckFileException(file.getName() + " is " + file.length() + " bytes: not a check file");
        }
        byte[] blob = Files.readAllBytes(file.toPath());
        String digest = sha256Hex(blob);
        if (!digest.equalsIgnoreCase(sha256 == null ? "" : sha256)) {
            throw new CheckFileException("check file " + file.getName() + " does not match the sha256 its sidecar"
                    + " records: corrupt or modified; re-export and push it again");
        }
        CheckFile data = parse(file.getName(), blob);
        if (!Arrays.equals(data.inputShape, inputShape) || !Arrays.equals(data.outputShape, outputShape)) {
            throw new CheckFileException("check file " + file.getName() + " holds inputs "
                    + Arrays.toString(data.inputShape) + " and outputs " + Arrays.toString(data.outputShape)
                    + ", but the artifact takes " + Arrays.toString(inputShape) + " and returns "
                    + Arrays.toString(outputShape));
        }
        return data;
    }

    /** Lowercase hex sha256 of {@code bytes}. */
    public static String sha256Hex(byte[] bytes) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
            StringBuilder sb = new StringBuilder(64);
            for (byte x : d) {
                sb.append(String.format("%02x", x & 0xFF));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }
}
