/*
 * The reference quantizer and dequantizers (file-format.md §7-8).
 *
 * Byte identity with rwkv.cpp depends on every float operation below being one IEEE float32
 * operation, rounded to nearest, in the order written: the library is built with
 * -ffp-contract=off and without fast-math, and float expressions are evaluated in float
 * (FLT_EVAL_METHOD 0, true on x86-64 and AArch64). Blocks are packed and unaligned, so they are
 * written and read byte by byte, never through structs.
 */
#include "quant_blocks.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "data_types.h"
#include "fp16.h"

static void store_fp16(uint8_t * out, float value) {
    uint16_t h = rwkv_fp32_to_fp16(value);
    out[0] = (uint8_t)(h & 0xff);
    out[1] = (uint8_t)(h >> 8);
}

static float load_fp16(const uint8_t * in) {
    return rwkv_fp16_to_fp32((uint16_t)(in[0] | (in[1] << 8)));
}

static uint32_t load_u32(const uint8_t * in) {
    return (uint32_t)in[0] | ((uint32_t)in[1] << 8) | ((uint32_t)in[2] << 16) | ((uint32_t)in[3] << 24);
}

/*
 * The reference's C float->int conversion. For finite input its argument is always in [0, 33); NaN
 * or infinite inputs give unspecified blocks (as in the reference), but here without undefined
 * behaviour.
 */
static int truncate_quant(float v) {
    return (v >= 0.0f && v < 64.0f) ? (int)v : 0;
}

static float inverse_scale(float d) {
    return d != 0.0f ? 1.0f / d : 0.0f;
}

/* qs[j] = element j (low nibble) | element j + 16 (high nibble); qh bit j = fifth bit of element j. */
static void pack_nibbles(const uint8_t q[RWKV_QK], uint8_t * qs) {
    for (int j = 0; j < RWKV_QK / 2; j++) {
        qs[j] = (uint8_t)((q[j] & 0x0f) | ((q[j + RWKV_QK / 2] & 0x0f) << 4));
    }
}

static void pack_fifth_bits(const uint8_t q[RWKV_QK], uint8_t * qh) {
    uint32_t bits = 0;
    for (int j = 0; j < RWKV_QK; j++) {
        bits |= (uint32_t)((q[j] >> 4) & 1) << j;
    }
    for (int byte = 0; byte < 4; byte++) {
        qh[byte] = (uint8_t)(bits >> (8 * byte));
    }
}

/* Q4_0 (offset 8, q <= 15) and Q5_0 (offset 16, q <= 31): d = -(first value of largest magnitude) / offset. */
static void quantize_symmetric(const float * x, int offset, int q_max, uint8_t * block, uint8_t q[RWKV_QK]) {
    float amax = 0.0f;
    float max = 0.0f;
    for (int j = 0; j < RWKV_QK; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    float d = max / (float)-offset;
    float id = inverse_scale(d);
    float bias = (float)offset + 0.5f;
    for (int j = 0; j < RWKV_QK; j++) {
        int v = truncate_quant(x[j] * id + bias);
        q[j] = (uint8_t)(v < q_max ? v : q_max);
    }
    store_fp16(block, d);
}

/* Q4_1 (q clamped to 15) and Q5_1 (q cannot exceed 31, so the clamp never acts): x = min + q * d. */
static void quantize_affine(const float * x, int levels, uint8_t * block, uint8_t q[RWKV_QK]) {
    float min = FLT_MAX;
    float max = -FLT_MAX;
    for (int j = 0; j < RWKV_QK; j++) {
        if (x[j] < min) {
            min = x[j];
        }
        if (x[j] > max) {
            max = x[j];
        }
    }
    float d = (max - min) / (float)levels;
    float id = inverse_scale(d);
    for (int j = 0; j < RWKV_QK; j++) {
        int v = truncate_quant((x[j] - min) * id + 0.5f);
        q[j] = (uint8_t)(v < levels ? v : levels);
    }
    store_fp16(block, d);
    store_fp16(block + 2, min);
}

/*
 * roundf (nearest, halves away from zero) written out, because not every C library gets it right:
 * mingw's adds 0.5 and truncates, which turns 0.49999997 into 1. x - truncf(x) is exact in float.
 */
static float round_half_away(float x) {
    float whole = truncf(x);
    float fraction = x - whole;
    if (fraction >= 0.5f) {
        return whole + 1.0f;
    }
    if (fraction <= -0.5f) {
        return whole - 1.0f;
    }
    return whole; /* also NaN, which the caller maps to 0 */
}

/* Q8_0: q = roundf(x * 127 / amax), halves away from zero. */
static void quantize_q8_0(const float * x, uint8_t * block) {
    float amax = 0.0f;
    for (int j = 0; j < RWKV_QK; j++) {
        float a = fabsf(x[j]);
        if (a > amax) {
            amax = a;
        }
    }
    float d = amax / 127.0f;
    float id = inverse_scale(d);
    store_fp16(block, d);
    for (int j = 0; j < RWKV_QK; j++) {
        float v = round_half_away(x[j] * id);
        int8_t q = (v >= -127.0f && v <= 127.0f) ? (int8_t)v : 0;
        memcpy(block + 2 + j, &q, 1);
    }
}

void rwkv_quantize_row(uint32_t type, const float * x, size_t n, uint8_t * out) {
    size_t block_bytes = rwkv_type_block_bytes(type);
    uint8_t q[RWKV_QK];
    for (size_t b = 0; b < n / RWKV_QK; b++, x += RWKV_QK, out += block_bytes) {
        switch (type) {
        case RWKV_TYPE_Q4_0:
            quantize_symmetric(x, 8, 15, out, q);
            pack_nibbles(q, out + 2);
            break;
        case RWKV_TYPE_Q5_0:
            quantize_symmetric(x, 16, 31, out, q);
            pack_fifth_bits(q, out + 2);
            pack_nibbles(q, out + 6);
            break;
        case RWKV_TYPE_Q4_1:
            quantize_affine(x, 15, out, q);
            pack_nibbles(q, out + 4);
            break;
        case RWKV_TYPE_Q5_1:
            quantize_affine(x, 31, out, q);
            pack_fifth_bits(q, out + 4);
            pack_nibbles(q, out + 8);
            break;
        case RWKV_TYPE_Q8_0:
            quantize_q8_0(x, out);
            break;
        default:
            return;
        }
    }
}

/* Unsigned q of element j from the nibbles at qs and (when qh is not NULL) the fifth bits at qh. */
static void unpack_block(const uint8_t * qs, const uint8_t * qh, int q[RWKV_QK]) {
    uint32_t bits = qh != NULL ? load_u32(qh) : 0;
    for (int j = 0; j < RWKV_QK / 2; j++) {
        q[j] = qs[j] & 0x0f;
        q[j + RWKV_QK / 2] = qs[j] >> 4;
    }
    for (int j = 0; j < RWKV_QK; j++) {
        q[j] |= (int)((bits >> j) & 1) << 4;
    }
}

/* One block of the 4- and 5-bit types: y = (q - offset) * d, or y = q * d + m when has_min. */
static void dequantize_nibble_block(const uint8_t * block, int offset, bool has_min, bool has_fifth_bit,
                                    float * y) {
    float d = load_fp16(block);
    float m = has_min ? load_fp16(block + 2) : 0.0f;
    const uint8_t * qh = block + (has_min ? 4 : 2);
    const uint8_t * qs = has_fifth_bit ? qh + 4 : qh;
    int q[RWKV_QK];
    unpack_block(qs, has_fifth_bit ? qh : NULL, q);
    for (int j = 0; j < RWKV_QK; j++) {
        y[j] = has_min ? (float)q[j] * d + m : (float)(q[j] - offset) * d;
    }
}

void rwkv_dequantize_row(uint32_t type, const uint8_t * data, size_t n, float * out) {
    if (type == RWKV_TYPE_FP32) {
        memcpy(out, data, n * sizeof(float));
        return;
    }
    if (type == RWKV_TYPE_FP16) {
        for (size_t i = 0; i < n; i++) {
            out[i] = load_fp16(data + 2 * i);
        }
        return;
    }
    size_t block_bytes = rwkv_type_block_bytes(type);
    for (size_t b = 0; b < n / RWKV_QK; b++, data += block_bytes, out += RWKV_QK) {
        switch (type) {
        case RWKV_TYPE_Q4_0:
            dequantize_nibble_block(data, 8, false, false, out);
            break;
        case RWKV_TYPE_Q4_1:
            dequantize_nibble_block(data, 0, true, false, out);
            break;
        case RWKV_TYPE_Q5_0:
            dequantize_nibble_block(data, 16, false, true, out);
            break;
        case RWKV_TYPE_Q5_1:
            dequantize_nibble_block(data, 0, true, true, out);
            break;
        case RWKV_TYPE_Q8_0: {
            float d = load_fp16(data);
            for (int j = 0; j < RWKV_QK; j++) {
                out[j] = (float)(int8_t)data[2 + j] * d;
            }
            break;
        }
        default:
            return;
        }
    }
}

void rwkv_quantize_row_portable(uint32_t source_type, const uint8_t * source, size_t n, uint32_t target,
                                float * scratch, uint8_t * out) {
    rwkv_dequantize_row(source_type, source, n, scratch);
    rwkv_quantize_row(target, scratch, n, out);
}
