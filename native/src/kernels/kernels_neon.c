/*
 * NEON kernels for 64-bit ARM (AArch64, where Advanced SIMD is part of the base architecture, so
 * dispatch never has to refuse them there). Compiled only for AArch64 targets.
 *
 * Activations are the portable ones (rwkv_prepare_act_portable): float32 for FP32/FP16 weights,
 * standard Q8_0/Q8_1 blocks for quantized weights. Every output element is one call of dot_row()
 * on one weight row and one activation column, so its value cannot depend on n_cols, the tiling
 * or the row range (kernels.h's contract).
 *
 * FP32/FP16 weights: four independent float32x4 accumulators (16 elements per step) with fused
 * multiply-adds, reduced in a fixed order; FP16 weights are widened with the base architecture's
 * half-precision conversion (exact). Quantized weights: per 32-block an exact integer dot product
 * (widening 8x8->16-bit multiplies, pairwise adds into 32 bits; no ARMv8.2 dot-product instruction
 * needed), then the same float arithmetic as the scalar reference in the same order, so quantized
 * results equal the scalar level's bit for bit.
 */
#include <arm_neon.h>
#include <string.h>

#include "data_types.h"
#include "fp16.h"
#include "kernels.h"
#include "quant_blocks.h"

/* Weight bytes a row tile may hold in sequence mode, so it stays in cache while every column passes. */
#define TILE_BYTES (64 * 1024)

static float load_fp16(const uint8_t * p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return rwkv_fp16_to_fp32(h);
}

/* ---- FP32 and FP16 weights ------------------------------------------------------------------ */

/* Four binary16 values at p (any alignment) as float32. */
static inline float32x4_t load_half4(const uint8_t * p) {
    return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p)));
}

static inline float32x4_t load_weights4(bool half, const uint8_t * row, size_t i) {
    return half ? load_half4(row + 2 * i) : vreinterpretq_f32_u8(vld1q_u8(row + 4 * i));
}

static float scalar_weight(bool half, const uint8_t * row, size_t i) {
    if (half) {
        return load_fp16(row + 2 * i);
    }
    float f;
    memcpy(&f, row + 4 * i, sizeof f);
    return f;
}

static float dot_float(bool half, const uint8_t * row, const float * x, size_t n) {
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    float32x4_t acc2 = vdupq_n_f32(0.0f), acc3 = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = vfmaq_f32(acc0, load_weights4(half, row, i), vld1q_f32(x + i));
        acc1 = vfmaq_f32(acc1, load_weights4(half, row, i + 4), vld1q_f32(x + i + 4));
        acc2 = vfmaq_f32(acc2, load_weights4(half, row, i + 8), vld1q_f32(x + i + 8));
        acc3 = vfmaq_f32(acc3, load_weights4(half, row, i + 12), vld1q_f32(x + i + 12));
    }
    for (; i + 4 <= n; i += 4) {
        acc0 = vfmaq_f32(acc0, load_weights4(half, row, i), vld1q_f32(x + i));
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc2), vaddq_f32(acc1, acc3)));
    /* The last 1-3 elements: never read past the row. */
    for (; i < n; i++) {
        sum += scalar_weight(half, row, i) * x[i];
    }
    return sum;
}

/* ---- Quantized weights ------------------------------------------------------------------------ */

/* Exact dot of 32 int8 weights (lo: elements 0-15, hi: 16-31) with 32 int8 activations. */
static inline int32_t dot_block(int8x16_t w_lo, int8x16_t w_hi, const int8_t * y) {
    int8x16_t y_lo = vld1q_s8(y);
    int8x16_t y_hi = vld1q_s8(y + 16);
    /* |w * y| <= 128 * 127 fits int16; each pairwise add into int32 is exact. */
    int32x4_t acc = vpaddlq_s16(vmull_s8(vget_low_s8(w_lo), vget_low_s8(y_lo)));
    acc = vpadalq_s16(acc, vmull_high_s8(w_lo, y_lo));
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(w_hi), vget_low_s8(y_hi)));
    acc = vpadalq_s16(acc, vmull_high_s8(w_hi, y_hi));
    return vaddvq_s32(acc);
}

/* The fifth bits of a Q5 block (bit j of qh = element j) as 16 or 0 per element: lo 0-15, hi 16-31. */
static inline void fifth_bits(const uint8_t * qh, uint8x16_t * lo, uint8x16_t * hi) {
    static const uint8_t bit_of_lane[16] = { 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128 };
    const uint8x16_t bits = vld1q_u8(bit_of_lane);
    const uint8x16_t sixteen = vdupq_n_u8(16);
    uint8x16_t bytes_lo = vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1]));
    uint8x16_t bytes_hi = vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3]));
    *lo = vandq_u8(vtstq_u8(bytes_lo, bits), sixteen);
    *hi = vandq_u8(vtstq_u8(bytes_hi, bits), sixteen);
}

/*
 * A 4/5-bit block's 32 values (nibble | fifth bit << 4, minus offset) as int8: qs[j] holds element j
 * in its low nibble and element j + 16 in its high nibble. qh is NULL for 4-bit types.
 */
static inline void unpack_block(const uint8_t * qs, const uint8_t * qh, int offset, int8x16_t * lo, int8x16_t * hi) {
    const uint8x16_t packed = vld1q_u8(qs);
    uint8x16_t l = vandq_u8(packed, vdupq_n_u8(0x0f));
    uint8x16_t h = vshrq_n_u8(packed, 4);
    if (qh != NULL) {
        uint8x16_t fifth_lo, fifth_hi;
        fifth_bits(qh, &fifth_lo, &fifth_hi);
        l = vorrq_u8(l, fifth_lo);
        h = vorrq_u8(h, fifth_hi);
    }
    /* Values are at most 31, so they are also valid int8; subtracting the offset stays in range. */
    const int8x16_t off = vdupq_n_s8((int8_t)offset);
    *lo = vsubq_s8(vreinterpretq_s8_u8(l), off);
    *hi = vsubq_s8(vreinterpretq_s8_u8(h), off);
}

/* Q4_0, Q5_0, Q8_0: sum over blocks of (d_w * d_x) * exact integer dot, as the scalar level. */
static float dot_symmetric(uint32_t type, const uint8_t * w, const struct rwkv_block_q8_0 * x, size_t n_blocks) {
    const size_t block_bytes = rwkv_type_block_bytes(type);
    float sum = 0.0f;
    for (size_t b = 0; b < n_blocks; b++, w += block_bytes) {
        int8x16_t lo, hi;
        if (type == RWKV_TYPE_Q8_0) {
            lo = vld1q_s8((const int8_t *)(w + 2));
            hi = vld1q_s8((const int8_t *)(w + 18));
        } else if (type == RWKV_TYPE_Q5_0) {
            unpack_block(w + 6, w + 2, 16, &lo, &hi);
        } else {
            unpack_block(w + 2, NULL, 8, &lo, &hi);
        }
        sum += (load_fp16(w) * rwkv_fp16_to_fp32(x[b].d)) * (float)dot_block(lo, hi, x[b].qs);
    }
    return sum;
}

/* Q4_1, Q5_1: unsigned q, plus m_w * s_x per block, summed apart and added last (as the scalar level). */
static float dot_affine(uint32_t type, const uint8_t * w, const struct rwkv_block_q8_1 * x, size_t n_blocks) {
    const size_t block_bytes = rwkv_type_block_bytes(type);
    float sum = 0.0f;
    float sum_min = 0.0f;
    for (size_t b = 0; b < n_blocks; b++, w += block_bytes) {
        int8x16_t lo, hi;
        if (type == RWKV_TYPE_Q5_1) {
            unpack_block(w + 8, w + 4, 0, &lo, &hi);
        } else {
            unpack_block(w + 4, NULL, 0, &lo, &hi);
        }
        sum += (load_fp16(w) * rwkv_fp16_to_fp32(x[b].d)) * (float)dot_block(lo, hi, x[b].qs);
        sum_min += load_fp16(w + 2) * rwkv_fp16_to_fp32(x[b].s);
    }
    return sum + sum_min;
}

static float dot_row(const struct rwkv_matrix * w, size_t row, const uint8_t * act) {
    const uint8_t * weights = w->data + row * w->row_bytes;
    const size_t n_blocks = w->n_in / RWKV_QK;
    switch (w->type) {
    case RWKV_TYPE_FP32:
        return dot_float(false, weights, (const float *)act, w->n_in);
    case RWKV_TYPE_FP16:
        return dot_float(true, weights, (const float *)act, w->n_in);
    case RWKV_TYPE_Q4_0:
    case RWKV_TYPE_Q5_0:
    case RWKV_TYPE_Q8_0:
        return dot_symmetric(w->type, weights, (const struct rwkv_block_q8_0 *)act, n_blocks);
    case RWKV_TYPE_Q4_1:
    case RWKV_TYPE_Q5_1:
        return dot_affine(w->type, weights, (const struct rwkv_block_q8_1 *)act, n_blocks);
    default:
        return 0.0f;
    }
}

/*
 * Decoding (one column) walks the rows in order, so the weights stream through memory as the
 * prefetchers like; sequence mode walks row tiles small enough to stay in cache while every column
 * passes over them.
 */
static void matmul_neon(const struct rwkv_matrix * w, const void * act, size_t act_stride, size_t n_cols, float * y,
                        size_t y_stride, size_t row_begin, size_t row_end) {
    const size_t tile_rows = n_cols > 1 ? TILE_BYTES / (w->row_bytes + 1) + 1 : row_end - row_begin;
    for (size_t tile = row_begin; tile < row_end; tile += tile_rows) {
        const size_t tile_end = tile + tile_rows < row_end ? tile + tile_rows : row_end;
        for (size_t c = 0; c < n_cols; c++) {
            const uint8_t * column = (const uint8_t *)act + c * act_stride;
            for (size_t r = tile; r < tile_end; r++) {
                y[c * y_stride + r] = dot_row(w, r, column);
            }
        }
    }
}

const struct rwkv_kernels rwkv_kernels_neon = {
    .name = "neon",
    .prepare_act = rwkv_prepare_act_portable,
    .matmul = matmul_neon,
    .quantize_row = rwkv_quantize_row_portable,
};
