/* IEEE binary16 <-> binary32 conversions, exact and portable (no F16C needed). */
#ifndef RWKV_FP16_H
#define RWKV_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t rwkv_float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float rwkv_bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/*
 * Exact: every binary16 value, subnormals included, is a binary32 value. Written with bit masks
 * instead of branches so that loops converting many values vectorize.
 */
static inline float rwkv_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t magnitude = h & 0x7fff;
    /* Subnormal or zero: mantissa * 2^-24, exact in float32 (no subnormal float arithmetic). */
    uint32_t subnormal = rwkv_float_bits((float)magnitude * (1.0f / 16777216.0f));
    /* Normal: rebias the exponent (15 -> 127). Infinity/NaN: all exponent bits, payload kept. */
    uint32_t normal = (magnitude << 13) + (112u << 23);
    uint32_t special = (magnitude << 13) | 0x7f800000;
    uint32_t is_subnormal = 0u - (uint32_t)(magnitude < 0x400);
    uint32_t is_special = 0u - (uint32_t)(magnitude >= 0x7c00);
    uint32_t bits = (subnormal & is_subnormal) | (special & is_special) | (normal & ~(is_subnormal | is_special));
    return rwkv_bits_float(bits | sign);
}

/*
 * Round to nearest, ties to even. |x| >= 65520 becomes infinity; results below the normal range
 * become subnormals or zero with the same rounding; NaN becomes the quiet NaN 0x7E00 (sign kept).
 */
static inline uint16_t rwkv_fp32_to_fp16(float f) {
    uint32_t x = rwkv_float_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t abs = x & 0x7fffffff;
    if (abs > 0x7f800000) {
        return sign | 0x7e00;
    }
    if (abs >= 0x477ff000) { /* 65520 and above round to infinity */
        return sign | 0x7c00;
    }
    if (abs >= 0x38800000) { /* normal binary16 range: rebias the exponent, round 13 bits away */
        uint32_t rounded = abs + 0xfff + ((abs >> 13) & 1);
        return sign | (uint16_t)((rounded - (112u << 23)) >> 13);
    }
    if (abs < 0x33000000) { /* below 2^-25: rounds to zero (2^-25 itself ties to even zero) */
        return sign;
    }
    /* Subnormal: result = round(value * 2^24) = round(m * 2^(e - 126)) with the implicit bit. */
    uint32_t exponent = abs >> 23;
    uint32_t mantissa = (abs & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - exponent;
    uint32_t result = mantissa >> shift;
    uint32_t remainder = mantissa & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (remainder > half || (remainder == half && (result & 1))) {
        result++;
    }
    return sign | (uint16_t)result;
}

#endif
