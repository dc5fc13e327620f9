package org.jrwkv.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.jrwkv.TestData;
import org.jrwkv.internal.checkpoint.Checkpoint;
import org.jrwkv.internal.checkpoint.CheckpointTensor;
import org.jrwkv.internal.checkpoint.Checkpoints;
import org.jrwkv.internal.checkpoint.MappedTensor;

/** The checkpoint fixtures of {@code testdata/pth} and helpers around them. */
public final class Fixtures {

    private Fixtures() {
    }

    /** {@code testdata/pth}. */
    public static Path pthDir() {
        return TestData.dir().resolve("pth");
    }

    /** A file of {@code testdata/pth}. */
    public static Path pth(String name) {
        return pthDir().resolve(name);
    }

    /** {@code manifest.json} entries. */
    public static List<JsonNode> manifest() {
        try {
            List<JsonNode> out = new ArrayList<>();
            new ObjectMapper().readTree(pth("manifest.json").toFile()).forEach(out::add);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Hex sha256 of a file. */
    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every tensor of a checkpoint as float32, in checkpoint order. */
    public static List<PthWriter.Tensor> tensors(Path checkpoint) {
        List<PthWriter.Tensor> out = new ArrayList<>();
        try (Checkpoint c = Checkpoints.open(checkpoint)) {
            for (CheckpointTensor t : c.tensors()) {
                try (MappedTensor m = t.map()) {
                    float[] values = new float[(int) m.view().numel()];
                    m.view().readFloats(0, values.length, values, 0);
                    out.add(PthWriter.Tensor.f32(t.name(), t.shape(), values));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Float32 little-endian bytes as floats. */
    public static float[] floats(byte[] bytes) {
        float[] f = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    /** Files in a folder (to check that nothing, temporary files included, was left behind). */
    public static List<String> listing(Path dir) {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
