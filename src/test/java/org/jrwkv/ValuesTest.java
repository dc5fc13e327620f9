package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Value types and exception decoding, without a model. */
class ValuesTest {

    @Test
    void modelOptionsValidateAndDefault() {
        ModelOptions d = ModelOptions.defaults();
        assertTrue(d.threads() >= 1 && d.threads() <= 8);
        assertEquals(0, d.gpuLayers());
        assertEquals(3, d.withThreads(3).threads());
        assertEquals(5, d.withGpuLayers(5).gpuLayers());
        assertThrows(IllegalArgumentException.class, () -> new ModelOptions(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new ModelOptions(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> new ModelOptions(1, -1));
    }

    @Test
    void dataTypesCarryFileCodes() {
        int[] codes = {0, 1, 2, 3, 7, 8, 9};
        DataType[] types = DataType.values();
        for (int i = 0; i < codes.length; i++) {
            assertEquals(codes[i], types[i].code());
            assertEquals(types[i], DataType.fromCode(codes[i]));
        }
        for (int removed : new int[] {4, 5, 6, 10, 17, -1}) {
            assertThrows(IllegalArgumentException.class, () -> DataType.fromCode(removed));
        }
        assertFalse(DataType.FP16.isQuantized());
        assertTrue(DataType.Q5_1.isQuantized());
        assertEquals(24, DataType.Q5_1.blockBytes());
    }

    @Test
    void architecturesCarryEngineCodes() {
        assertEquals(Architecture.V7, Architecture.fromCode(70));
        assertEquals("5.1", Architecture.V5_1.version());
        assertThrows(IllegalArgumentException.class, () -> Architecture.fromCode(0));
    }

    @Test
    void tensorInfoIsAnImmutableValue() {
        TensorInfo t = new TensorInfo("blocks.0.att.key.weight", DataType.FP16, List.of(64L, 64L), 100, 8192, true);
        assertEquals(4096, t.elements());
        assertThrows(UnsupportedOperationException.class, () -> t.dims().add(1L));
        assertEquals(t, new TensorInfo("blocks.0.att.key.weight", DataType.FP16, List.of(64L, 64L), 100, 8192, true));
    }

    @Test
    void exceptionDecodesFlagsAndExplainsThemPlainly() {
        RwkvException e = new RwkvException("Cannot load model /x.bin", 0x404, "record 3 ends past the end of the file");
        assertEquals(0x404, e.flags());
        assertEquals(RwkvException.Category.MODEL_PARAMS, e.category());
        assertEquals(RwkvException.Detail.FILE_READ, e.detail());
        assertEquals("record 3 ends past the end of the file", e.nativeMessage());
        assertEquals("Cannot load model /x.bin: file is truncated or unreadable "
                + "(error 0x404: record 3 ends past the end of the file)", e.getMessage());

        RwkvException args = new RwkvException("Evaluation failed", 0x100, "");
        assertEquals(RwkvException.Category.ARGS, args.category());
        assertEquals(RwkvException.Detail.NONE, args.detail());
        assertEquals("Evaluation failed: invalid argument (error 0x100)", args.getMessage());

        RwkvException file = new RwkvException("Cannot quantize a", 0x200, "not FP32 or FP16");
        assertEquals("Cannot quantize a: bad model file (error 0x200: not FP32 or FP16)", file.getMessage());

        RwkvException odd = new RwkvException("x", 0x7F3F, "");
        assertEquals(RwkvException.Category.UNKNOWN, odd.category());
        assertEquals(RwkvException.Detail.UNKNOWN, odd.detail());
    }
}
