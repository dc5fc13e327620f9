package org.jrwkv.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.jrwkv.Architecture;
import org.jrwkv.DataType;
import org.jrwkv.ModelOptions;
import org.jrwkv.ProgressListener;
import org.jrwkv.RwkvModel;
import org.jrwkv.RwkvState;
import org.jrwkv.TestData;
import org.jrwkv.internal.PageCacheProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Conversion of the checkpoint fixtures, byte for byte, and of broken checkpoints, refused cleanly. */
class ConverterTest {

    @TempDir
    Path dir;

    static Stream<Arguments> fixtures() {
        List<Arguments> out = new ArrayList<>();
        for (JsonNode m : Fixtures.manifest()) {
            out.add(Arguments.of(m.get("pth").asText(), DataType.FP32, m.get("expected_fp32_sha256").asText(),
                    m.get("architecture").asText()));
            out.add(Arguments.of(m.get("pth").asText(), DataType.FP16, m.get("expected_fp16_sha256").asText(),
                    m.get("architecture").asText()));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("fixtures")
    void everyFixtureConvertsToTheExpectedBytes(String pth, DataType type, String sha256, String arch) throws IOException {
        Path out = dir.resolve("out.bin");
        ConversionResult r = Converter.convert(Fixtures.pth(pth), out, ConvertOptions.defaults().withDataType(type));
        assertEquals(sha256, Fixtures.sha256(out), pth + " " + type);
        assertEquals(arch, r.architecture().version());
        assertEquals(Files.size(out), r.bytes());
        assertEquals(type, r.dataType());
        assertEquals(List.of("out.bin"), Fixtures.listing(dir));
    }

    /** The output leaves the page cache once written, so it is first mapped in 2 MiB pages (FileCache). */
    @Test
    void theOutputIsNotLeftInThePageCache() throws IOException {
        assumeTrue(PageCacheProbe.canMeasure(dir), "needs Linux and a disk-backed temporary folder");
        Path out = dir.resolve("out.bin");
        Converter.convert(Fixtures.pth("tiny-rwkv-7v0-834K.pth"), out);
        boolean outputCached = PageCacheProbe.fullyCached(out);
        Path copy = Files.copy(out, dir.resolve("copy.bin")); // reads the output back into the cache
        assertTrue(PageCacheProbe.fullyCached(copy), "a file just copied should be cached");
        assertFalse(outputCached);
    }

    @Test
    void v4OutputEqualsTheVersion100ReferenceExceptTheVersionField() throws IOException {
        for (String type : new String[] {"FP32", "FP16"}) {
            Path out = dir.resolve("v4-" + type + ".bin");
            Converter.convert(Fixtures.pth("tiny-rwkv-4v0-660K.pth"), out,
                    ConvertOptions.defaults().withDataType(DataType.valueOf(type)));
            byte[] ours = Files.readAllBytes(out);
            byte[] reference = Files.readAllBytes(TestData.tiny("4v0-660K", type));
            assertEquals(reference.length, ours.length);
            assertEquals(101, ours[4]);
            assertEquals(100, reference[4]);
            ours[4] = reference[4];
            assertArrayEquals(reference, ours, type);
        }
    }

    @Test
    void convertedModelsLoadAndEvaluateLikeTheReferenceFiles() throws IOException {
        String[][] cases = {{"tiny-rwkv-4v0-660K.pth", "4v0-660K"}, {"tiny-rwkv-5v1-730K.pth", "5v1-730K"},
            {"tiny-rwkv-5v2-730K.pth", "5v2-730K"}, {"tiny-rwkv-7v0-834K.pth", "7v0-834K"}};
        for (String[] c : cases) {
            Path out = dir.resolve(c[1] + ".bin");
            Converter.convert(Fixtures.pth(c[0]), out, ConvertOptions.defaults().withDataType(DataType.FP32));
            // The engine gives exactly the logits of rwkv.cpp's file for ours (TinyModelProtocolTest checks
            // those against the reference logits).
            float[] logits = logits(out);
            assertArrayEquals(logits(TestData.tiny(c[1], "FP32")), logits, 0f, c[1]);
            assertTrue(Float.isFinite(logits[0]), c[1]);
        }
        Path v6 = dir.resolve("v6.bin");
        Converter.convert(Fixtures.pth("tiny-rwkv-6v0-2layer-from-q5_1.pth"), v6);
        try (RwkvModel model = RwkvModel.load(v6)) {
            assertEquals(Architecture.V6, model.architecture());
            assertEquals(2, model.layerCount());
            assertEquals(DataType.FP16, model.dataType());
        }
    }

    private static float[] logits(Path model) {
        try (RwkvModel m = RwkvModel.load(model, new ModelOptions(1, 0)); RwkvState state = m.newState()) {
            return m.evalSequence(new int[] {34, 105, 110}, state);
        }
    }

    @Test
    void progressCoversTheWholeFile() throws IOException {
        AtomicLong total = new AtomicLong();
        AtomicLong last = new AtomicLong(-1);
        boolean[] finished = {false};
        ProgressListener listener = new ProgressListener() {
            @Override
            public void start(String task, long t) {
                assertTrue(task.contains("tiny-rwkv-7v0-834K.pth"), task);
                total.set(t);
            }

            @Override
            public void update(long done) {
                assertTrue(done >= last.get());
                last.set(done);
            }

            @Override
            public void finish() {
                finished[0] = true;
            }
        };
        Path out = dir.resolve("p.bin");
        Converter.convert(Fixtures.pth("tiny-rwkv-7v0-834K.pth"), out, ConvertOptions.defaults().withProgress(listener));
        assertEquals(Files.size(out), total.get());
        assertEquals(Files.size(out), last.get());
        assertTrue(finished[0]);
    }

    /** Converting {@code input} fails with a message holding {@code fragment} and leaves the folder as it was. */
    private CheckpointException assertRefused(Path input, String fragment) {
        List<String> before = Fixtures.listing(dir);
        Path out = dir.resolve("refused.bin");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Converter.convert(input, out));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertEquals(before, Fixtures.listing(dir), "no output and no temporary file left");
        return e;
    }

    private Path rewritten(String fixture, java.util.function.UnaryOperator<List<PthWriter.Tensor>> edit) throws IOException {
        List<PthWriter.Tensor> tensors = edit.apply(new ArrayList<>(Fixtures.tensors(Fixtures.pth(fixture))));
        PthWriter w = new PthWriter();
        tensors.forEach(w::add);
        Path file = dir.resolve("edited.pth");
        w.write(file);
        return file;
    }

    @Test
    void aRewrittenCheckpointStillConvertsToTheSameBytes() throws IOException {
        // Guards the tests below: the edits alone cause their failures.
        Path pth = rewritten("tiny-rwkv-5v2-730K.pth", l -> l);
        Path out = dir.resolve("same.bin");
        Converter.convert(pth, out, ConvertOptions.defaults().withDataType(DataType.FP32));
        assertEquals("e170606dbbe4b6bdcaef2e7cd7d391652593a9778d8acfc78d77461763094bbc", Fixtures.sha256(out));
        Files.delete(out);
    }

    @Test
    void aMissingTensorIsNamed() throws IOException {
        Path pth = rewritten("tiny-rwkv-7v0-834K.pth", l -> {
            l.removeIf(t -> t.name().equals("blocks.5.att.key.weight"));
            return l;
        });
        assertRefused(pth, "missing tensor blocks.5.att.key.weight");
    }

    @Test
    void aMissingShiftVectorIsNamed() throws IOException {
        Path pth = rewritten("tiny-rwkv-7v0-834K.pth", l -> {
            l.removeIf(t -> t.name().equals("blocks.2.att.x_a"));
            return l;
        });
        assertRefused(pth, "missing tensor blocks.2.att.x_a");
    }

    @Test
    void aWrongShapeIsNamed() throws IOException {
        Path pth = rewritten("tiny-rwkv-5v1-730K.pth", l -> {
            for (int i = 0; i < l.size(); i++) {
                PthWriter.Tensor t = l.get(i);
                if (t.name().equals("blocks.3.att.output.weight")) {
                    l.set(i, new PthWriter.Tensor(t.name(), t.storageClass(), new long[] {32, 128}, t.data()));
                }
            }
            return l;
        });
        assertRefused(pth, "tensor blocks.3.att.output.weight has shape [32, 128], expected [64, 64]");
    }

    @Test
    void aTruncatedZipIsRefused() throws IOException {
        byte[] full = Files.readAllBytes(Fixtures.pth("tiny-rwkv-5v2-730K.pth"));
        for (int length : new int[] {full.length / 2, full.length - 10, 100, 3}) {
            Path cut = dir.resolve("cut.pth");
            Files.write(cut, Arrays.copyOf(full, length));
            assertRefused(cut, length == 3 ? "not a PyTorch zip checkpoint" : "truncated");
            Files.delete(cut);
        }
    }

    @Test
    void aStorageShorterThanDeclaredIsRefused() throws IOException {
        // A record holding fewer bytes than numel x element size says: refused before mapping.
        PthWriter.Tensor t = PthWriter.Tensor.f32("emb.weight", new long[] {4, 4}, new float[16]);
        byte[] pickle = new PthWriter().add(t).pickle();
        PthWriter w = new PthWriter().rawPickle(pickle)
                .add(new PthWriter.Tensor("emb.weight", "FloatStorage", new long[] {4, 4}, new byte[40]));
        Path file = dir.resolve("short.pth");
        w.write(file);
        assertRefused(file, "storage 0 declares 16 elements of 4 bytes but its record holds 40 bytes");
    }

    @Test
    void hostilePicklesAreRefusedByName() {
        assertRefused(Fixtures.pth("hostile-os-system.pth"), "refused pickle global os.system");
        assertRefused(Fixtures.pth("hostile-builtins-eval.pth"), "refused pickle global __builtin__.eval");
        assertRefused(Fixtures.pth("hostile-unknown-storage.pth"), "refused pickle global torch.EvilStorage");
        assertRefused(Fixtures.pth("legacy-format.pth"), "legacy torch format");
    }

    @Test
    void nonFloatTensorsAreRefused() {
        assertRefused(Fixtures.pth("reader-edge-cases.pth"), "holds I64 elements");
    }

    @Test
    void onlyFp16AndFp32AreOutputTypes() {
        assertThrows(IllegalArgumentException.class, () -> ConvertOptions.defaults().withDataType(DataType.Q5_1));
    }
}
