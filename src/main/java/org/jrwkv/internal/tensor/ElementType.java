package org.jrwkv.internal.tensor;

/**
 * Element types of checkpoint tensors, as PyTorch storages and safetensors name them. Only the
 * floating-point ones can be converted to a model file; the others can be read (tests, error
 * messages) but are refused by the converter.
 *
 * <p>Internal: not part of the public API.
 */
public enum ElementType {
    /** IEEE binary64. */
    F64(8, true),
    /** IEEE binary32. */
    F32(4, true),
    /** IEEE binary16. */
    F16(2, true),
    /** bfloat16: the upper half of a binary32. */
    BF16(2, true),
    /** Signed 64-bit integer. */
    I64(8, false),
    /** Signed 32-bit integer. */
    I32(4, false),
    /** Signed 16-bit integer. */
    I16(2, false),
    /** Signed 8-bit integer. */
    I8(1, false),
    /** Unsigned 64-bit integer. */
    U64(8, false),
    /** Unsigned 32-bit integer. */
    U32(4, false),
    /** Unsigned 16-bit integer. */
    U16(2, false),
    /** Unsigned 8-bit integer. */
    U8(1, false),
    /** Boolean, one byte. */
    BOOL(1, false),
    /** 8-bit float, 4 exponent bits. */
    F8_E4M3(1, false),
    /** 8-bit float, 5 exponent bits. */
    F8_E5M2(1, false);

    private final int size;
    private final boolean convertible;

    ElementType(int size, boolean convertible) {
        this.size = size;
        this.convertible = convertible;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** Whether the converter accepts it: F64, F32, F16 and BF16 (all widen or narrow to float32). */
    public boolean isConvertible() {
        return convertible;
    }
}
