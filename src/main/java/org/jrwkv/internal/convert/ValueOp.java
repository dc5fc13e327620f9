package org.jrwkv.internal.convert;

/**
 * The element-wise value transforms of rwkv.cpp's converter (converter.md B.6, B.6a), each
 * evaluated in double precision from the float32 input and rounded once to float32, with
 * {@link StrictMath#exp} so that every platform gives the same bits.
 *
 * <p>Internal: not part of the public API.
 */
enum ValueOp {
    /** Copy. */
    IDENTITY,
    /** RWKV-4 {@code time_decay}: {@code -exp(w)}. */
    NEG_EXP,
    /** RWKV-5 {@code time_decay}: {@code exp(-exp(w))}. */
    EXP_NEG_EXP,
    /** RWKV-5.1 {@code time_first}: {@code exp(w)}. */
    EXP;

    /** Applies the transform to {@code n} values in place. */
    void apply(float[] values, int n) {
        switch (this) {
            case IDENTITY:
                break;
            case NEG_EXP:
                for (int i = 0; i < n; i++) {
                    values[i] = (float) -StrictMath.exp(values[i]);
                }
                break;
            case EXP_NEG_EXP:
                for (int i = 0; i < n; i++) {
                    values[i] = (float) StrictMath.exp(-StrictMath.exp(values[i]));
                }
                break;
            case EXP:
                for (int i = 0; i < n; i++) {
                    values[i] = (float) StrictMath.exp(values[i]);
                }
                break;
            default:
                throw new AssertionError(this);
        }
    }
}
