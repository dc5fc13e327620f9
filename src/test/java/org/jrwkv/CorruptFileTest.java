package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Damaged model files, made in a temporary folder from the real tiny files: each must give an
 * {@link RwkvException} with the flags of file-format.md §5 and a clear message, never a crash
 * (a crash would end the test JVM and fail the build).
 */
class CorruptFileTest {

    @TempDir
    Path dir;

    private int counter;

    private Path write(byte[] bytes) {
        try {
            Path file = dir.resolve("corrupt-" + (counter++) + ".bin");
            Files.write(file, bytes);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loads {@code bytes} as a model and checks the failure. */
    private RwkvException assertRefused(byte[] bytes, int expectedFlags, String what) {
        Path file = write(bytes);
        RwkvException e = assertThrows(RwkvException.class, () -> RwkvModel.load(file, new ModelOptions(1, 0)).close(),
                what + " loaded");
        assertEquals(hex(expectedFlags), hex(e.flags()), what + ": " + e.getMessage());
        assertTrue(e.getMessage().startsWith("Cannot load model " + file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("(error 0x" + String.format(Locale.ROOT, "%03X", expectedFlags)), e.getMessage());
        assertFalse(e.nativeMessage().isBlank(), what + ": the engine gave no message");
        try {
            Files.delete(file);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return e;
    }

    private static String hex(int flags) {
        return String.format(Locale.ROOT, "0x%03X", flags);
    }

    private static byte[] prefix(byte[] bytes, long length) {
        return java.util.Arrays.copyOf(bytes, (int) length);
    }

    /**
     * Truncation at every offset of the header, at every record boundary and one byte either side,
     * and at ~50 offsets spread over the data: header cut → FILE|FILE_READ (0x204); cut exactly
     * between records → the later tensors are missing, MODEL_PARAMS|PARAM_MISSING (0x40E); cut
     * inside a record → MODEL_PARAMS|FILE_READ (0x404).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"4v0-660K FP16", "5v2-730K Q5_1", "7v0-834K FP32"})
    void truncatedFilesAreRefused(String name) {
        String[] parts = name.split(" ");
        ModelFile model = ModelFile.read(TestData.tiny(parts[0], parts[1]));
        long size = model.bytes.length;
        TreeMap<Long, Integer> cuts = new TreeMap<>();
        for (long offset = 0; offset < ModelFile.HEADER_BYTES; offset++) {
            cuts.put(offset, 0x204);
        }
        for (ModelFile.Record r : model.records) {
            cuts.put(r.start(), 0x40E);
            cuts.put(r.start() + 1, 0x404);
            if (r.start() > ModelFile.HEADER_BYTES) {
                cuts.put(r.start() - 1, 0x404);
            }
        }
        cuts.put(size - 1, 0x404);
        for (int i = 1; i <= 50; i++) {
            long offset = ModelFile.HEADER_BYTES + (size - ModelFile.HEADER_BYTES) * i / 51;
            cuts.putIfAbsent(offset, 0x404);
        }
        // The last record must be required for "cut at a boundary" to mean "tensor missing".
        assertEquals("head.weight", model.records.get(model.records.size() - 1).name());

        List<Executable> checks = new ArrayList<>();
        cuts.forEach((offset, flags) -> checks.add(
                () -> assertRefused(prefix(model.bytes, offset), flags, name + " cut at " + offset + " of " + size)));
        assertAll(name + ": " + cuts.size() + " truncations", checks);
    }

    @Test
    void emptyFileAndMissingFile() {
        assertRefused(new byte[0], 0x204, "empty file");
        Path missing = dir.resolve("no-such-model.bin");
        RwkvException e = assertThrows(RwkvException.class, () -> RwkvModel.load(missing));
        assertEquals(0x202, e.flags());
        assertEquals(RwkvException.Category.FILE, e.category());
        assertEquals(RwkvException.Detail.FILE_OPEN, e.detail());
        assertTrue(e.getMessage().startsWith("Cannot load model " + missing + ": cannot open the file (error 0x202"),
                e.getMessage());
    }

    @Test
    void badHeaders() {
        ModelFile v101 = ModelFile.read(TestData.tiny("5v2-730K", "FP32"));
        ModelFile v100 = ModelFile.read(TestData.tiny("4v0-660K", "FP32"));
        assertAll(
                () -> assertRefused(v101.withU32(0, 0x67676d67), 0x206, "wrong magic"),
                () -> assertRefused(v101.withU32(0, 0x666d6767), 0x206, "byte-swapped magic"),
                () -> assertRefused(v101.withU32(4, 99), 0x207, "version 99"),
                () -> assertRefused(v101.withU32(4, 102), 0x207, "version 102"),
                () -> assertRefused(v101.withU32(4, 0), 0x207, "version 0"),
                () -> assertRefused(v101.withU32(4, 0xFFFFFFFF), 0x207, "version 0xFFFFFFFF"),
                () -> assertRefused(v101.withU32(20, 4), 0x208, "header type 4 (Q4_1_O, removed)"),
                () -> assertRefused(v101.withU32(20, 10), 0x208, "header type 10 (Q8_1)"),
                () -> assertRefused(v101.withU32(20, 17), 0x208, "header type 17"),
                () -> assertRefused(v101.withU32(20, 0xFFFFFFFF), 0x208, "header type 0xFFFFFFFF"),
                () -> assertRefused(v100.withU32(20, 7), 0x208, "quantized header type in a version-100 file"));
    }

    @Test
    void badRecords() {
        ModelFile m = ModelFile.read(TestData.tiny("5v2-730K", "FP32"));
        ModelFile.Record emb = m.record("emb.weight");
        ModelFile.Record ln = m.record("blocks.0.ln1.weight");
        ModelFile.Record key = m.record("blocks.3.att.key.weight");
        List<Executable> checks = new ArrayList<>();
        for (ModelFile.Record r : List.of(emb, ln, key)) {
            for (int type : new int[] {4, 10, 17, 0xFFFFFFFF}) {
                checks.add(() -> assertRefused(m.withU32(r.start() + 8, type), 0x408,
                        r.name() + " with type " + Integer.toUnsignedString(type)));
            }
            for (int nDims : new int[] {0, 4, 0xFFFFFFFF}) {
                checks.add(() -> assertRefused(m.withU32(r.start(), nDims), 0x40A,
                        r.name() + " with n_dims " + Integer.toUnsignedString(nDims)));
            }
            checks.add(() -> assertRefused(m.withU32(r.start() + 4, 0xFFFFFFFF), 0x404,
                    r.name() + " with key length 0xFFFFFFFF"));
            checks.add(() -> assertRefused(m.withU32(r.start() + 4, 0x7FFFFFFF), 0x404,
                    r.name() + " with key length 0x7FFFFFFF"));
        }
        // A size so large that the data would end far past the end of the file.
        checks.add(() -> assertRefused(m.withU32(ln.neOffset(0), 0xFFFFFFFF), 0x404, "ln1.weight with ne0 0xFFFFFFFF"));
        checks.add(() -> assertRefused(m.withU32(key.neOffset(1), 0xFFFFFFFF), 0x404, "key.weight with ne1 0xFFFFFFFF"));
        assertAll("bad records", checks);
    }

    @Test
    void missingDuplicateAndMisshapenTensors() {
        ModelFile m = ModelFile.read(TestData.tiny("5v2-730K", "FP32"));
        ModelFile.Record emb = m.record("emb.weight");
        ModelFile.Record key = m.record("blocks.0.att.key.weight");
        int nVocab = 256;
        int nEmbed = 64;
        int nLayer = 12;
        assertAll(
                () -> assertRefused(m.without(key), 0x40E, "missing blocks.0.att.key.weight"),
                () -> assertRefused(m.without(m.record("head.weight")), 0x40E, "missing head.weight"),
                () -> assertRefused(prefix(m.bytes, ModelFile.HEADER_BYTES), 0x40E, "no records at all"),
                () -> assertRefused(m.withU32(16, nLayer + 1), 0x40E, "header n_layer larger than the file's"),
                () -> assertRefused(m.append(m.recordBytes(key)), 0x40C, "duplicate blocks.0.att.key.weight"),
                () -> assertRefused(m.append(m.recordBytes(emb)), 0x40C, "duplicate emb.weight"),
                () -> assertRefused(m.withU32(8, nVocab - 1), 0x40B, "header n_vocab != emb.weight ne1"),
                () -> assertRefused(m.withU32(12, nEmbed * 2), 0x40B, "header n_embed != emb.weight ne0"),
                () -> assertRefused(m.withDims(emb, new int[] {nEmbed, nVocab, 1}), 0x40A, "emb.weight 3-D"),
                () -> assertRefused(m.withDims(emb, new int[] {nEmbed * nVocab}), 0x40A, "emb.weight 1-D"));
    }

    /** Not errors: records in any order load and evaluate the same (file-format.md §3). */
    @Test
    void recordsInReverseOrderLoadAndAgree() throws IOException {
        ModelFile m = ModelFile.read(TestData.tiny("7v0-834K", "Q5_1"));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(m.bytes.length);
        out.write(m.bytes, 0, ModelFile.HEADER_BYTES);
        for (int i = m.records.size() - 1; i >= 0; i--) {
            out.write(m.recordBytes(m.records.get(i)));
        }
        Path reversed = write(out.toByteArray());
        int[] tokens = TestData.byteTokens("hello");
        try (RwkvModel a = RwkvModel.load(TestData.tiny("7v0-834K", "Q5_1"), new ModelOptions(1, 0));
             RwkvModel b = RwkvModel.load(reversed, new ModelOptions(1, 0));
             RwkvState sa = a.newState();
             RwkvState sb = b.newState()) {
            assertEquals(m.records.size(), b.tensors().size());
            assertEquals("head.weight", b.tensors().get(0).name());
            float[] la = a.evalSequence(tokens, sa);
            float[] lb = b.evalSequence(tokens, sb);
            assertEquals(java.util.Arrays.toString(la), java.util.Arrays.toString(lb));
        }
    }
}
