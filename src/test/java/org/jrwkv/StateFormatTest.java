package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The exported state format, without a model. */
class StateFormatTest {

    private static final StateShape SHAPE = new StateShape(Architecture.V5_2, 4, 2, 2, 32);

    private static FloatBuffer values(int n, float seed) {
        FloatBuffer b = FloatBuffer.allocate(n);
        for (int i = 0; i < n; i++) {
            b.put(i, seed + i * 0.5f - (i % 3 == 0 ? -1e30f : 0));
        }
        b.put(1, Float.NaN);
        b.put(2, -0.0f);
        return b;
    }

    @Test
    void roundTripIsExactAndLayoutIsAsDocumented() {
        FloatBuffer in = values(32, 1.25f);
        byte[] bytes = StateFormat.encode(SHAPE, in);
        assertEquals(36 + 4 * 32 + 4, bytes.length);
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("JRWKVST\0", new String(bytes, 0, 8, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(1, bb.getInt(8));
        assertEquals(52, bb.getInt(12));
        assertEquals(4, bb.getInt(16));
        assertEquals(2, bb.getInt(20));
        assertEquals(2, bb.getInt(24));
        assertEquals(32L, bb.getLong(28));
        assertEquals(Float.floatToRawIntBits(in.get(5)), bb.getInt(36 + 4 * 5));

        FloatBuffer out = FloatBuffer.allocate(32);
        StateFormat.decode(bytes, SHAPE, out, "test");
        for (int i = 0; i < 32; i++) {
            assertEquals(Float.floatToRawIntBits(in.get(i)), Float.floatToRawIntBits(out.get(i)), "float " + i);
        }
    }

    @Test
    void refusesOtherShapesAndLeavesTargetUntouched() {
        byte[] bytes = StateFormat.encode(SHAPE, values(32, 2f));
        float[] before = new float[32];
        Arrays.fill(before, 7f);
        for (StateShape other : new StateShape[] {
                new StateShape(Architecture.V5_1, 4, 2, 2, 32),
                new StateShape(Architecture.V5_2, 8, 1, 2, 32),
                new StateShape(Architecture.V5_2, 4, 2, 4, 32),
                new StateShape(Architecture.V5_2, 4, 2, 2, 16)}) {
            FloatBuffer target = FloatBuffer.wrap(before.clone());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> StateFormat.decode(bytes, other, target, "state file x"));
            assertTrue(e.getMessage().contains("belongs to another model"), e.getMessage());
            assertArrayEquals(before, target.array());
        }
    }

    @Test
    void refusesDamagedAndTruncatedInput() {
        byte[] bytes = StateFormat.encode(SHAPE, values(32, 3f));
        FloatBuffer target = FloatBuffer.allocate(32);

        byte[] flipped = bytes.clone();
        flipped[40] ^= 1;
        assertMessage("damaged (checksum mismatch)", flipped, target);

        byte[] wrongShapeField = bytes.clone();
        wrongShapeField[16] ^= 1; // header damage is caught by the checksum, not taken for a shape
        assertMessage("damaged (checksum mismatch)", wrongShapeField, target);

        assertMessage("truncated", Arrays.copyOf(bytes, bytes.length - 1), target);
        assertMessage("truncated", Arrays.copyOf(bytes, 20), target);
        assertMessage("wrong magic", Arrays.copyOf(bytes, 3), target);
        assertMessage("wrong magic", new byte[0], target);
        assertMessage("unexpected bytes", Arrays.copyOf(bytes, bytes.length + 2), target);

        byte[] badMagic = bytes.clone();
        badMagic[0] = 'X';
        assertMessage("wrong magic", badMagic, target);

        byte[] badVersion = bytes.clone();
        badVersion[8] = 2;
        assertMessage("format version 2", badVersion, target);

        byte[] hugeLength = bytes.clone();
        ByteBuffer.wrap(hugeLength).order(ByteOrder.LITTLE_ENDIAN).putLong(28, -1L);
        assertMessage("damaged (state length", hugeLength, target);
    }

    private static void assertMessage(String expected, byte[] bytes, FloatBuffer target) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StateFormat.decode(bytes, SHAPE, target, "state file x"));
        assertTrue(e.getMessage().startsWith("state file x "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
