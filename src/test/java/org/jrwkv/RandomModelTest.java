package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link RandomModel}: valid files of the requested shape and type, seeded, with finite logits. */
class RandomModelTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void everyArchitectureLoadsWithTheRequestedShapeAndFiniteLogits(Architecture arch) {
        for (DataType type : new DataType[] {DataType.FP16, DataType.Q5_1}) {
            Path file = dir.resolve(arch + "-" + type + ".bin");
            new RandomModel(arch, 128, 2, 300, type, 7).write(file);
            try (RwkvModel model = RwkvModel.load(file, new ModelOptions(1, 0));
                 RwkvState state = model.newState(); Logits logits = model.newLogits()) {
                assertEquals(arch, model.architecture());
                assertEquals(type, model.dataType());
                assertEquals(128, model.embeddingSize());
                assertEquals(2, model.layerCount());
                assertEquals(300, model.vocabSize());
                assertEquals(arch == Architecture.V4 ? 0 : 64, model.headSize());
                model.evalSequence(new int[] {1, 2, 299, 3}, state, logits);
                float[] values = logits.toArray();
                boolean varied = false;
                for (float v : values) {
                    assertTrue(Float.isFinite(v), arch + " " + type + ": " + v);
                    varied |= v != values[0];
                }
                assertTrue(varied, "logits are not all equal");
                assertTrue(model.tensors().stream().filter(TensorInfo::used).anyMatch(t -> t.type() == type));
            }
        }
    }

    @Test
    void theSeedDecidesTheBytes() throws IOException {
        RandomModel spec = new RandomModel(Architecture.V7, 64, 1, 256, DataType.FP32, 1);
        Path a = dir.resolve("a.bin");
        Path b = dir.resolve("b.bin");
        Path c = dir.resolve("c.bin");
        spec.write(a);
        spec.write(b);
        new RandomModel(Architecture.V7, 64, 1, 256, DataType.FP32, 2).write(c);
        assertEquals(-1L, Files.mismatch(a, b));
        assertNotEquals(-1L, Files.mismatch(a, c));
        assertEquals(Files.size(a), Files.size(c));
        assertEquals("RandomModel[RWKV v7 FP32, n_embed 64, n_layer 1, n_vocab 256, seed 1]", spec.toString());
    }

    @Test
    void badShapesAndPathsAreRefused() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> new RandomModel(Architecture.V7, 100, 1, 256, DataType.FP32, 1));
        assertThrows(IllegalArgumentException.class, () -> new RandomModel(Architecture.V7, 0, 1, 256, DataType.FP32, 1));
        assertThrows(IllegalArgumentException.class, () -> new RandomModel(Architecture.V7, 64, 0, 256, DataType.FP32, 1));
        assertThrows(IllegalArgumentException.class, () -> new RandomModel(Architecture.V7, 64, 1, 0, DataType.FP32, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new RandomModel(Architecture.V7, 64, 1, (1 << 24) + 1, DataType.FP32, 1));
        assertThrows(NullPointerException.class, () -> new RandomModel(null, 64, 1, 256, DataType.FP32, 1));
        Path missingDir = dir.resolve("no/such/dir/m.bin");
        RwkvException e = assertThrows(RwkvException.class,
                () -> new RandomModel(Architecture.V7, 64, 1, 256, DataType.FP32, 1).write(missingDir));
        assertTrue(e.getMessage().startsWith("Cannot write random model " + missingDir), e.getMessage());
        assertFalse(Files.exists(missingDir));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "no temporary file left");
        }
    }
}
