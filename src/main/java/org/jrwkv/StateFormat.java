package org.jrwkv;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * The byte format of an exported state (all numbers little-endian):
 *
 * <pre>
 * offset size  field
 *      0    8  magic "JRWKVST" followed by a 0 byte
 *      8    4  format version (1)
 *     12    4  architecture code (40, 51, 52, 60, 70)
 *     16    4  n_embed
 *     20    4  n_layer
 *     24    4  head size (0 for v4)
 *     28    8  state length L in floats
 *     36  4·L  the state, float32
 *   36+4L   4  CRC-32 of all bytes before it
 * </pre>
 *
 * The header binds the floats to the shape of the model that produced them; the checksum catches
 * a damaged file.
 */
final class StateFormat {

    static final byte[] MAGIC = "JRWKVST\0".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_BYTES = 36;
    static final int TRAILER_BYTES = 4;

    private StateFormat() {
    }

    /** Total size of an exported state of {@code length} floats. */
    static long encodedSize(long length) {
        return HEADER_BYTES + 4L * length + TRAILER_BYTES;
    }

    /** Encodes the shape and the floats of {@code values} (position 0 to limit). */
    static byte[] encode(StateShape shape, FloatBuffer values) {
        long size = encodedSize(shape.length());
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("state of " + shape.length()
                    + " floats is too large for a byte array; export it to a file");
        }
        byte[] bytes = new byte[(int) size];
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(MAGIC).putInt(VERSION).putInt(shape.architecture().code()).putInt(shape.embeddingSize())
                .putInt(shape.layerCount()).putInt(shape.headSize()).putLong(shape.length());
        bb.asFloatBuffer().put(values.duplicate().rewind());
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - TRAILER_BYTES);
        bb.putInt(bytes.length - TRAILER_BYTES, (int) crc.getValue());
        return bytes;
    }

    /**
     * Checks {@code bytes} against the format and against {@code expected}, then writes its floats
     * into {@code target} (nothing is written unless every check passes).
     *
     * @param source names the input in messages, e.g. "state file /tmp/s.bin"
     * @throws IllegalArgumentException if the input is not a state, is damaged or truncated, or
     *                                  belongs to a model of another shape
     */
    static void decode(byte[] bytes, StateShape expected, FloatBuffer target, String source) {
        if (bytes.length < MAGIC.length || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new IllegalArgumentException(source + " is not a jrwkv state (wrong magic)");
        }
        if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
            throw new IllegalArgumentException(source + " is truncated (" + bytes.length + " bytes)");
        }
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int version = bb.getInt(8);
        if (version != VERSION) {
            throw new IllegalArgumentException(source + " has state format version "
                    + Integer.toUnsignedString(version) + "; this jrwkv reads version " + VERSION);
        }
        long length = bb.getLong(28);
        if (length < 0 || length > (Integer.MAX_VALUE - HEADER_BYTES - TRAILER_BYTES) / 4) {
            throw new IllegalArgumentException(source + " is damaged (state length " + Long.toUnsignedString(length) + ")");
        }
        long size = encodedSize(length);
        if (bytes.length < size) {
            throw new IllegalArgumentException(source + " is truncated (" + bytes.length + " bytes, expected " + size + ")");
        }
        if (bytes.length > size) {
            throw new IllegalArgumentException(source + " has " + (bytes.length - size) + " unexpected bytes at its end");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - TRAILER_BYTES);
        if ((int) crc.getValue() != bb.getInt(bytes.length - TRAILER_BYTES)) {
            throw new IllegalArgumentException(source + " is damaged (checksum mismatch)");
        }
        int archCode = bb.getInt(12);
        String arch;
        try {
            arch = "RWKV v" + Architecture.fromCode(archCode).version();
        } catch (IllegalArgumentException e) {
            arch = "architecture code " + archCode;
        }
        boolean sameShape = archCode == expected.architecture().code()
                && bb.getInt(16) == expected.embeddingSize()
                && bb.getInt(20) == expected.layerCount()
                && bb.getInt(24) == expected.headSize()
                && length == expected.length();
        if (!sameShape) {
            throw new IllegalArgumentException(source + " belongs to another model (" + arch + ", n_embed "
                    + Integer.toUnsignedString(bb.getInt(16)) + ", n_layer " + Integer.toUnsignedString(bb.getInt(20))
                    + ", head size " + Integer.toUnsignedString(bb.getInt(24)) + ", " + length
                    + " floats); this state is for " + expected);
        }
        bb.position(HEADER_BYTES).limit(bytes.length - TRAILER_BYTES);
        target.duplicate().rewind().put(bb.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
    }
}
