package org.jrwkv.internal.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jrwkv.convert.CheckpointException;
import org.jrwkv.convert.Fixtures;
import org.jrwkv.convert.PthWriter;
import org.jrwkv.internal.tensor.ElementType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The torch zip + pickle reader against the reader fixtures and hand-made hostile streams. */
class TorchReaderTest {

    @TempDir
    Path dir;

    private static final Map<String, ElementType> STORAGE_TYPES = Map.of("FloatStorage", ElementType.F32,
            "HalfStorage", ElementType.F16, "BFloat16Storage", ElementType.BF16, "LongStorage", ElementType.I64);

    @Test
    void readerEdgeCasesMatchTheExpectedValues() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(Fixtures.pth("reader-edge-cases.expected.json").toFile());
        try (TorchCheckpoint c = TorchCheckpoint.open(Fixtures.pth("reader-edge-cases.pth"))) {
            assertTrue(c.ordered(), "an OrderedDict with _metadata");
            List<String> names = new ArrayList<>();
            expected.fieldNames().forEachRemaining(names::add);
            assertEquals(names, c.tensors().stream().map(CheckpointTensor::name).toList(), "keys in insertion order");
            for (CheckpointTensor t : c.tensors()) {
                JsonNode e = expected.get(t.name());
                assertEquals(STORAGE_TYPES.get(e.get("storage").asText()), t.type(), t.name());
                assertArrayEquals(longs(e.get("shape")), t.shape(), t.name());
                assertEquals(e.get("parameter").asBoolean(), t.parameter(), t.name());
                try (MappedTensor m = t.map()) {
                    double[] values = m.view().toDoubles(1 << 20);
                    JsonNode ev = e.get("values");
                    assertEquals(ev.size(), values.length, t.name());
                    for (int i = 0; i < values.length; i++) {
                        assertEquals(ev.get(i).asDouble(), values[i], 0.0, t.name() + "[" + i + "]");
                    }
                }
            }
        }
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }

    @Test
    void realTorchFilesMatchTheirDescriptions() throws Exception {
        for (String base : new String[] {"251016_rosa_1bit_run", "260123_reverse_L2_only_rwkv7"}) {
            Path dirReal = Fixtures.pthDir().resolve("real-torch");
            JsonNode expected = new ObjectMapper().readTree(dirReal.resolve(base + ".expected.json").toFile());
            JsonNode file = expected.get("_file");
            try (TorchCheckpoint c = TorchCheckpoint.open(dirReal.resolve(base + ".pth"))) {
                assertEquals(file.get("tensor_count").asInt(), c.tensors().size(), base);
                assertEquals(file.get("has_metadata_attribute").asBoolean(), c.ordered(), base);
                for (CheckpointTensor t : c.tensors()) {
                    JsonNode e = expected.get(t.name());
                    assertArrayEquals(longs(e.get("shape")), t.shape(), t.name());
                    try (MappedTensor m = t.map()) {
                        float[] values = new float[(int) m.view().numel()];
                        m.view().readFloats(0, values.length, values, 0);
                        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                        b.asFloatBuffer().put(values);
                        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
                        assertEquals(e.get("float32_le_sha256").asText(), sha, t.name());
                        for (int i = 0; i < e.get("first_values").size(); i++) {
                            assertEquals(e.get("first_values").get(i).asDouble(), values[i], 0.0, t.name());
                        }
                    }
                }
                for (Iterator<String> it = expected.fieldNames(); it.hasNext();) {
                    String name = it.next();
                    assertTrue(name.equals("_file") || c.tensors().stream().anyMatch(t -> t.name().equals(name)), name);
                }
            }
        }
    }

    private CheckpointException refused(byte[] pickle) throws IOException {
        Path file = dir.resolve("h.pth");
        new PthWriter().rawPickle(pickle).write(file);
        return assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(file).close());
    }

    @Test
    void hostileFixturesAreRefusedBeforeAnythingRuns() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> TorchCheckpoint.open(Fixtures.pth("hostile-os-system.pth")));
        assertTrue(e.getMessage().contains("refused pickle global os.system"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(Fixtures.pth("hostile-builtins-eval.pth")));
        assertTrue(e.getMessage().contains("refused pickle global __builtin__.eval"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(Fixtures.pth("hostile-unknown-storage.pth")));
        assertTrue(e.getMessage().contains("torch.EvilStorage"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> Checkpoints.open(Fixtures.pth("legacy-format.pth")));
        assertTrue(e.getMessage().contains("legacy torch format"), e.getMessage());
    }

    @Test
    void codeExecutingOpcodesAreRefusedByName() throws IOException {
        // INST os\nsystem\n, OBJ, NEWOBJ, EXT1, text PERSID, out-of-band buffers.
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(2).op('(').str("x").op('i').bytes()).getMessage()
                .contains("refused pickle opcode INST (0x69)"));
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(2).op('(').op('o').bytes()).getMessage()
                .contains("refused pickle opcode OBJ"));
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(2).op(0x81).bytes()).getMessage()
                .contains("refused pickle opcode NEWOBJ"));
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(2).op(0x82).op(1).bytes()).getMessage()
                .contains("refused pickle opcode EXT1"));
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(2).op('P').bytes()).getMessage()
                .contains("refused pickle opcode PERSID"));
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(5).op(0x97).bytes()).getMessage()
                .contains("refused pickle opcode NEXT_BUFFER"));
        // STACK_GLOBAL goes through the same whitelist.
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(4).str("subprocess").str("Popen").op(0x93).bytes())
                .getMessage().contains("refused pickle global subprocess.Popen"));
        // A whitelisted global called with the wrong thing.
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(2).global("collections", "OrderedDict").str("x")
                .op(0x85).op('R').op('.').bytes()).getMessage().contains("OrderedDict called with arguments"));
    }

    @Test
    void malformedPicklesAreClearErrors() throws IOException {
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(2).op('}').bytes()).getMessage()
                .contains("without STOP"));
        // A string claiming 2 GiB in a 12-byte stream: refused, nothing allocated.
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(2).op('X').op(0).op(0).op(0).op(0x80).bytes())
                .getMessage().contains("exceeds"));
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(2).op('h').op(7).bytes()).getMessage()
                .contains("memo entry 7 is not defined"));
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(2).op('.').bytes()).getMessage()
                .contains("underflow"));
        assertTrue(refused(new PthWriter.Pickle().op(0x80).op(2).op(']').op('.').bytes()).getMessage()
                .contains("holds a list, not a state dict"));
    }

    @Test
    void tensorsReachingPastTheirStorageAreRefused() throws IOException {
        // Shape (4, 5) over a 16-element storage.
        PthWriter.Pickle p = new PthWriter.Pickle();
        p.op(0x80).op(2).op('}').str("w").global("torch._utils", "_rebuild_tensor_v2").op('(')
                .op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(16).op('t').op('Q')
                .integer(0).op('(').integer(4).integer(5).op('t').op('(').integer(5).integer(1).op('t').op(0x89)
                .global("collections", "OrderedDict").op(')').op('R').op('t').op('R').op('s').op('.');
        Path file = dir.resolve("over.pth");
        new PthWriter().rawPickle(p.bytes()).add(PthWriter.Tensor.f32("w", new long[] {16}, new float[16])).write(file);
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(file));
        assertTrue(e.getMessage().contains("tensor w: shape [4, 5] with stride [5, 1] and offset 0 reaches element 19"
                + " of a storage of 16 elements"), e.getMessage());
    }

    @Test
    void aHugeDeclaredStorageIsRefusedWithoutAllocating() throws IOException {
        PthWriter.Pickle p = new PthWriter.Pickle();
        p.op(0x80).op(2).op('}').str("w").global("torch._utils", "_rebuild_tensor_v2").op('(')
                .op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(1L << 60).op('t')
                .op('Q').integer(0).op('(').integer(1L << 60).op('t').op('(').integer(1).op('t').op(0x89)
                .global("collections", "OrderedDict").op(')').op('R').op('t').op('R').op('s').op('.');
        Path file = dir.resolve("huge.pth");
        new PthWriter().rawPickle(p.bytes()).add(PthWriter.Tensor.f32("w", new long[] {4}, new float[4])).write(file);
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(file));
        assertTrue(e.getMessage().contains("storage 0 declares 1152921504606846976 elements"), e.getMessage());
    }

    @Test
    void aStorageWithoutRecordIsRefused() throws IOException {
        PthWriter.Tensor t = PthWriter.Tensor.f32("w", new long[] {2}, new float[2]);
        Path file = dir.resolve("norecord.pth");
        new PthWriter().rawPickle(new PthWriter().add(t).pickle()).write(file);
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(file));
        assertTrue(e.getMessage().contains("storage 0 has no data/0 record"), e.getMessage());
    }

    @Test
    void notAZipAtAll() throws IOException {
        Path file = dir.resolve("x.pth");
        Files.writeString(file, "hello world, this is not a checkpoint");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertTrue(e.getMessage().contains("not a PyTorch zip checkpoint"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x.bin")));
    }
}
