package org.jrwkv;

/**
 * Tensor data types of rwkv.cpp model files, with the type codes stored in the files (rwkv.cpp's
 * own numbering, not ggml's).
 */
public enum DataType {
    /** 32-bit IEEE float. */
    FP32(0, 1, 4),
    /** 16-bit IEEE float. */
    FP16(1, 1, 2),
    /** 4-bit symmetric blocks of 32 values with an FP16 scale. */
    Q4_0(2, 32, 18),
    /** 4-bit affine blocks of 32 values with FP16 scale and minimum. */
    Q4_1(3, 32, 20),
    /** 5-bit symmetric blocks of 32 values with an FP16 scale. */
    Q5_0(7, 32, 22),
    /** 5-bit affine blocks of 32 values with FP16 scale and minimum. */
    Q5_1(8, 32, 24),
    /** 8-bit symmetric blocks of 32 values with an FP16 scale. */
    Q8_0(9, 32, 34);

    private final int code;
    private final int blockElements;
    private final int blockBytes;

    DataType(int code, int blockElements, int blockBytes) {
        this.code = code;
        this.blockElements = blockElements;
        this.blockBytes = blockBytes;
    }

    /** The type code stored in model files ({@code enum rwkv_data_type}). */
    public int code() {
        return code;
    }

    /** Values per block: 1 for FP32 and FP16, 32 for the quantized types. */
    public int blockElements() {
        return blockElements;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** Whether this is one of the block-quantized types, i.e. a target of {@link Rwkv#quantize}. */
    public boolean isQuantized() {
        return blockElements > 1;
    }

    /**
     * The data type with the given file code.
     *
     * @param code a type code from a model file
     * @return the data type
     * @throws IllegalArgumentException if jrwkv does not support that code
     */
    public static DataType fromCode(int code) {
        for (DataType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new IllegalArgumentException("unsupported data type code " + Integer.toUnsignedString(code));
    }
}
