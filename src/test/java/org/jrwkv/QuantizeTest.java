package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jrwkv.internal.NativeLib;
import org.jrwkv.internal.RwkvNative;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Our quantizer reproduces rwkv.cpp's files byte for byte, and fails cleanly. */
class QuantizeTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} FP32 -> {1}")
    @CsvSource({
            "4v0-660K, Q5_0", "4v0-660K, Q5_1",
            "5v1-730K, Q5_0", "5v1-730K, Q5_1",
            "5v2-730K, Q5_0", "5v2-730K, Q5_1",
            "7v0-834K, Q5_0", "7v0-834K, Q5_1"})
    void reproducesTheShippedFiles(String version, String format) throws IOException {
        Path out = dir.resolve("out-" + version + "-" + format + ".bin");
        Rwkv.quantize(TestData.tiny(version, "FP32"), out, DataType.valueOf(format));
        Path shipped = TestData.tiny(version, format);
        assertEquals(Files.size(shipped), Files.size(out), "size");
        assertEquals(-1L, Files.mismatch(shipped, out), "first differing byte");
        assertEquals(List.of(out), files(), "only the output file is left");
    }

    @Test
    void quantizedFilesLoadWithTheirType() {
        for (DataType type : DataType.values()) {
            if (!type.isQuantized()) {
                continue;
            }
            Path out = dir.resolve("7v0-FP16-" + type + ".bin");
            Rwkv.quantize(TestData.tiny("7v0-834K", "FP16"), out, type);
            try (RwkvModel model = RwkvModel.load(out, new ModelOptions(1, 0))) {
                assertEquals(type, model.dataType());
                assertEquals(101, model.fileVersion());
                assertTrue(model.tensors().stream().anyMatch(t -> t.type() == type));
                // emb and head keep the source type (file-format.md §10).
                assertEquals(DataType.FP16, model.tensors().stream().filter(t -> t.name().equals("head.weight"))
                        .findFirst().orElseThrow().type());
            }
        }
    }

    @Test
    void failuresLeaveNoOutputFile() throws IOException {
        Path out = dir.resolve("out.bin");

        // Not a quantized type: refused by the Java API before the engine is called.
        assertThrows(IllegalArgumentException.class,
                () -> Rwkv.quantize(TestData.tiny("5v2-730K", "FP32"), out, DataType.FP16));

        // Bad format names reach the engine only through the raw binding: ARGS | DATA_TYPE.
        for (String name : new String[] {"q5_1", "Q8_1", "Q2_K", "FP32", ""}) {
            NativeLib.applyThreadPrintFlag();
            try (NativeLib.Utf8 in = new NativeLib.Utf8(TestData.tiny("5v2-730K", "FP32").toString());
                 NativeLib.Utf8 o = new NativeLib.Utf8(out.toString());
                 NativeLib.Utf8 n = new NativeLib.Utf8(name)) {
                assertFalse(RwkvNative.rwkv_quantize_model_file(in.pointer(), o.pointer(), n.pointer()), name);
            }
            assertEquals(0x108, RwkvNative.rwkv_get_last_error(null), "format name '" + name + "'");
        }
        assertEquals(List.of(), files());

        // A truncated source: the error comes from reading it; nothing is left behind.
        byte[] source = Files.readAllBytes(TestData.tiny("5v2-730K", "FP32"));
        Path truncated = dir.resolve("truncated.bin");
        Files.write(truncated, java.util.Arrays.copyOf(source, source.length - 1000));
        RwkvException e = assertThrows(RwkvException.class, () -> Rwkv.quantize(truncated, out, DataType.Q5_1));
        assertEquals(RwkvException.Detail.FILE_READ, e.detail(), e.getMessage());
        assertTrue(e.getMessage().startsWith("Cannot quantize " + truncated + " to Q5_1: "), e.getMessage());

        // A source that is already quantized: FILE (0x200).
        e = assertThrows(RwkvException.class,
                () -> Rwkv.quantize(TestData.tiny("5v2-730K", "Q5_0"), out, DataType.Q8_0));
        assertEquals(0x200, e.flags(), e.getMessage());

        // A missing source: FILE | FILE_OPEN.
        e = assertThrows(RwkvException.class, () -> Rwkv.quantize(dir.resolve("nope.bin"), out, DataType.Q8_0));
        assertEquals(0x202, e.flags(), e.getMessage());
        assertEquals(List.of(truncated), files());

        // An existing output survives a failed quantization unchanged.
        Files.write(out, new byte[] {1, 2, 3});
        assertThrows(RwkvException.class, () -> Rwkv.quantize(truncated, out, DataType.Q4_0));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(out));
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().collect(Collectors.toList());
        }
    }
}
