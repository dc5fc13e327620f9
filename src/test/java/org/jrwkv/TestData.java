package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shared test data: {@code $JRWKV_TESTDATA}, or {@code ../shared/testdata} next to the
 * repository root. Missing data fails the tests (they are not skipped).
 */
public final class TestData {

    /** The tiny models' versions with FP32 and FP16 files, as in their file names. */
    public static final String[] VERSIONS_WITH_SOURCES = {"4v0-660K", "5v1-730K", "5v2-730K", "7v0-834K"};

    /** Every tiny model version that has shipped Q5_0/Q5_1 files. */
    public static final String[] ALL_VERSIONS = {"4v0-660K", "5v1-730K", "5v2-730K", "6v0-3m", "7v0-834K"};

    private TestData() {
    }

    /** The test data folder. */
    public static Path dir() {
        String env = System.getenv("JRWKV_TESTDATA");
        Path dir;
        if (env != null && !env.isEmpty()) {
            dir = Path.of(env);
        } else {
            String base = System.getProperty("jrwkv.basedir", System.getProperty("user.dir"));
            dir = Path.of(base).resolve("../shared/testdata").normalize();
        }
        assertTrue(Files.isDirectory(dir.resolve("tiny")),
                "test data not found at " + dir + " (set JRWKV_TESTDATA or put shared/ beside the repository)");
        return dir;
    }

    /** A file of {@code testdata/tiny}, e.g. {@code tiny("7v0-834K", "FP32")}. */
    public static Path tiny(String version, String type) {
        return dir().resolve("tiny").resolve("tiny-rwkv-" + version + "-" + type + ".bin");
    }

    /** The reference logits for {@code "in} of a version (256 floats). */
    public static float[] expectedLogits(String version) {
        Path file = dir().resolve("tiny").resolve("expected-logits-" + version + ".bin");
        try {
            return floats(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Little-endian float32 values. */
    public static float[] floats(byte[] bytes) {
        float[] values = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    /** The UTF-8 bytes of a string as byte-level tokens. */
    public static int[] byteTokens(String text) {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int[] tokens = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            tokens[i] = bytes[i] & 0xFF;
        }
        return tokens;
    }
}
