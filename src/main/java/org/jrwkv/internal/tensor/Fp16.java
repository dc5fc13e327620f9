package org.jrwkv.internal.tensor;

/**
 * IEEE binary16 conversions (JDK 17 has no {@code Float.floatToFloat16}).
 *
 * <p>float32 to float16 rounds to nearest, ties to even; magnitudes that round to 65520 or more
 * become infinity; values below the normal range become subnormals or zero with the same
 * rounding; NaN becomes the quiet NaN {@code 0x7E00} with its sign (file-format.md section 6).
 *
 * <p>Internal: not part of the public API.
 */
public final class Fp16 {

    private Fp16() {
    }

    /** The exact float32 value of a binary16 bit pattern. */
    public static float toFloat(short half) {
        int h = half & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            // Infinity or NaN: keep the payload bits in the top of the float32 mantissa.
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            // Zero or subnormal: mant * 2^-24, exact in float32.
            float magnitude = mant * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** The binary16 bit pattern nearest to a float32 value (ties to even). */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;
        if (abs >= 0x7F800000) {
            // Infinity keeps its sign; every NaN becomes the canonical quiet NaN.
            return (short) (sign | (abs == 0x7F800000 ? 0x7C00 : 0x7E00));
        }
        if (abs >= 0x477FF000) {
            // |x| >= 65520: rounds past the largest finite half (65504).
            return (short) (sign | 0x7C00);
        }
        if (abs >= 0x38800000) {
            // Normal half: rebias the exponent, round the 13 dropped mantissa bits to nearest even.
            // A carry out of the mantissa correctly bumps the exponent.
            int rebased = abs - (112 << 23);
            int half = rebased >>> 13;
            int rest = rebased & 0x1FFF;
            if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        if (abs < 0x33000000) {
            // Below half the smallest subnormal (2^-25), or exactly it (ties to even 0): zero.
            return (short) sign;
        }
        // Subnormal half: value = m * 2^-24 with m = round(x * 2^24), ties to even.
        int exp = abs >>> 23;
        int mant = (abs & 0x7FFFFF) | 0x800000;
        int shift = 126 - exp; // 24-bit mantissa scaled to units of 2^-24: shift right by (126 - exp)
        int m = mant >>> shift;
        int rest = mant & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (rest > halfway || (rest == halfway && (m & 1) != 0)) {
            m++;
        }
        return (short) (sign | m);
    }
}
