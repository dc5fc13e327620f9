package org.jrwkv.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jrwkv.DataType;
import org.jrwkv.internal.checkpoint.HfRwkv4Names;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** safetensors and Hugging Face layouts as converter inputs; safetensors validation. */
class SafetensorsTest {

    @TempDir
    Path dir;

    @Test
    void safetensorsInCheckpointOrderGivesTheSameBytesAsThePth() throws IOException {
        for (String[] c : new String[][] {
            {"tiny-rwkv-7v0-834K.pth", "3a7eef47b3d6c7f32d28c490486b08b4dd6c826d867394af12bd2a22749ff37f"},
            {"tiny-rwkv-6v0-2layer-from-q5_1.pth", "84e97f8b0fdc9f230464725328e1b31bddab0ae7d0eeaf7fc8303d306f1f10c2"}}) {
            Path st = dir.resolve("model.safetensors");
            SafetensorsWriter.write(st, Fixtures.tensors(Fixtures.pth(c[0])));
            Path out = dir.resolve("out.bin");
            Converter.convert(st, out, ConvertOptions.defaults().withDataType(DataType.FP16));
            assertEquals(c[1], Fixtures.sha256(out), c[0]);
        }
    }

    /** The v4 fixture under transformers names ({@code rwkv.embeddings.weight}, ...). */
    private List<PthWriter.Tensor> hfV4() {
        List<PthWriter.Tensor> out = new ArrayList<>();
        for (PthWriter.Tensor t : Fixtures.tensors(Fixtures.pth("tiny-rwkv-4v0-660K.pth"))) {
            String n = t.name();
            String hf;
            if (n.equals("head.weight")) {
                hf = n;
            } else {
                hf = "rwkv." + n.replace("emb.", "embeddings.").replace("blocks.0.ln0.", "blocks.0.pre_ln.")
                        .replace(".att.", ".attention.").replace(".ffn.", ".feed_forward.")
                        .replaceAll("time_mix_k$", "time_mix_key").replaceAll("time_mix_v$", "time_mix_value")
                        .replaceAll("time_mix_r$", "time_mix_receptance");
            }
            assertEquals(n, HfRwkv4Names.original(hf));
            out.add(new PthWriter.Tensor(hf, t.storageClass(), t.shape(), t.data()));
        }
        return out;
    }

    @Test
    void huggingFaceRwkv4NamesAreMappedBack() throws IOException {
        Path st = dir.resolve("model.safetensors");
        SafetensorsWriter.write(st, hfV4());
        Path out = dir.resolve("out.bin");
        Converter.convert(dir, out, ConvertOptions.defaults().withDataType(DataType.FP32));
        assertEquals("004b4eb4bd1ebd78f4ed05903616fcf546ef888dcda25068d8f7afd527a1320f", Fixtures.sha256(out));
    }

    @Test
    void shardedCheckpointsAreJoinedInShardOrder() throws IOException {
        List<PthWriter.Tensor> all = hfV4();
        int half = all.size() / 2;
        ObjectNode index = new ObjectMapper().createObjectNode();
        index.putObject("metadata").put("total_size", 0);
        ObjectNode map = index.putObject("weight_map");
        PthWriter first = new PthWriter();
        PthWriter second = new PthWriter();
        for (int i = 0; i < all.size(); i++) {
            (i < half ? first : second).add(all.get(i));
            map.put(all.get(i).name(), i < half ? "pytorch_model-00001-of-00002.bin" : "pytorch_model-00002-of-00002.bin");
        }
        Path folder = Files.createDirectory(dir.resolve("hf"));
        first.write(folder.resolve("pytorch_model-00001-of-00002.bin"));
        second.write(folder.resolve("pytorch_model-00002-of-00002.bin"));
        new ObjectMapper().writeValue(folder.resolve("pytorch_model.bin.index.json").toFile(), index);
        Path out = dir.resolve("out.bin");
        Converter.convert(folder, out, ConvertOptions.defaults().withDataType(DataType.FP16));
        assertEquals("df41b1803a39182806de1d010f15c6aec74f5cc8d30ac518dc26acb8b256768c", Fixtures.sha256(out));
    }

    private void assertInvalid(String header, int dataBytes, String fragment) throws IOException {
        Path st = dir.resolve("bad.safetensors");
        SafetensorsWriter.writeRaw(st, header, new byte[dataBytes]);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Converter.convert(st, dir.resolve("bad.bin")));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertEquals(List.of("bad.safetensors"), Fixtures.listing(dir));
        Files.delete(st);
    }

    @Test
    void invalidFilesAreRefused() throws IOException {
        assertInvalid("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlapping");
        assertInvalid("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, "leaving a gap");
        assertInvalid("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                "needs 12 bytes but data_offsets span 8");
        assertInvalid("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "(truncated file)");
        assertInvalid("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 16,
                "tensors cover 8 bytes of a data buffer of 16 bytes");
        assertInvalid("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "Duplicate field 'a'");
        assertInvalid("{\"a\":{\"dtype\":\"Q9\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype Q9");
        assertInvalid("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "invalid shape");
        assertInvalid("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 4,
                "overflows");
        assertInvalid("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "needs dtype, shape and data_offsets");
        assertInvalid("{\"a\":", 0, "not valid JSON");
        // Valid file, but not a model: named as such.
        assertInvalid("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "no emb.weight");
        assertInvalid("{\"emb.weight\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                "holds I32 elements");
    }

    @Test
    void aHeaderLengthBeyondTheFileIsRefused() throws IOException {
        Path st = dir.resolve("bad.safetensors");
        byte[] bytes = new byte[16];
        bytes[0] = (byte) 0xFF;
        bytes[1] = (byte) 0xFF;
        bytes[8] = '{';
        Files.write(st, bytes);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Converter.convert(st, dir.resolve("b.bin")));
        assertTrue(e.getMessage().contains("header length 65535 is invalid"), e.getMessage());
    }
}
