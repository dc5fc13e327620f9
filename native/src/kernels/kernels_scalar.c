/*
 * Portable kernels: the reference for the numerics of kernels.h, the fallback on CPUs without the
 * vector levels, and the activation conversion every level shares. Plain C, no vector intrinsics.
 */
#include <math.h>
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

static float load_fp32(const uint8_t * p) {
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

static uint32_t load_u32(const uint8_t * p) {
    uint32_t u;
    memcpy(&u, p, sizeof u);
    return u;
}

/* ---- Activations ------------------------------------------------------------------------- */

/*
 * One 32-block quantized to Q8 as ggml's AVX2 path does: d = amax / 127, q = round-half-even(x * id)
 * with id = 127 / amax. Returns d (float32, before binary16 rounding) and the sum of q.
 */
static float quantize_act_block(const float * x, int8_t qs[RWKV_QK], int * sum_q) {
    float amax = 0.0f;
    for (int j = 0; j < RWKV_QK; j++) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
        }
    }
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < RWKV_QK; j++) {
        float q = rintf(x[j] * id); /* the default rounding mode: ties to even */
        qs[j] = (q >= -127.0f && q <= 127.0f) ? (int8_t)q : 0; /* NaN/inf inputs: 0, not undefined behaviour */
        sum += qs[j];
    }
    *sum_q = sum;
    return amax / 127.0f;
}

static void prepare_column(uint32_t weight_type, const float * x, size_t n_in, uint8_t * act) {
    size_t n_blocks = n_in / RWKV_QK;
    int sum_q;
    switch (weight_type) {
    case RWKV_TYPE_FP32:
        memcpy(act, x, n_in * sizeof(float));
        break;
    case RWKV_TYPE_FP16: {
        float * rounded = (float *)act;
        for (size_t i = 0; i < n_in; i++) {
            rounded[i] = rwkv_fp16_to_fp32(rwkv_fp32_to_fp16(x[i]));
        }
        break;
    }
    case RWKV_TYPE_Q4_0:
    case RWKV_TYPE_Q5_0:
    case RWKV_TYPE_Q8_0: {
        struct rwkv_block_q8_0 * blocks = (struct rwkv_block_q8_0 *)act;
        for (size_t b = 0; b < n_blocks; b++) {
            blocks[b].d = rwkv_fp32_to_fp16(quantize_act_block(x + b * RWKV_QK, blocks[b].qs, &sum_q));
        }
        break;
    }
    case RWKV_TYPE_Q4_1:
    case RWKV_TYPE_Q5_1: {
        struct rwkv_block_q8_1 * blocks = (struct rwkv_block_q8_1 *)act;
        for (size_t b = 0; b < n_blocks; b++) {
            float d = quantize_act_block(x + b * RWKV_QK, blocks[b].qs, &sum_q);
            blocks[b].d = rwkv_fp32_to_fp16(d);
            blocks[b].s = rwkv_fp32_to_fp16(d * (float)sum_q);
        }
        break;
    }
    default:
        break;
    }
}

void rwkv_prepare_act_portable(uint32_t weight_type, const float * x, size_t x_stride, size_t n_in, size_t n_cols,
                               void * act, size_t act_stride) {
    for (size_t c = 0; c < n_cols; c++) {
        prepare_column(weight_type, x + c * x_stride, n_in, (uint8_t *)act + c * act_stride);
    }
}

/* One column of Q8_0/Q8_1 blocks rearranged into rwkv_act_group records. */
static void group_column(uint32_t weight_type, const uint8_t * blocks, size_t n_blocks, struct rwkv_act_group * groups) {
    const bool affine = weight_type == RWKV_TYPE_Q4_1 || weight_type == RWKV_TYPE_Q5_1;
    const size_t block_bytes = affine ? sizeof(struct rwkv_block_q8_1) : sizeof(struct rwkv_block_q8_0);
    const size_t qs = affine ? offsetof(struct rwkv_block_q8_1, qs) : offsetof(struct rwkv_block_q8_0, qs);
    const int offset = rwkv_act_group_offset(weight_type);
    for (size_t g = 0; g * RWKV_ACT_GROUP_BLOCKS < n_blocks; g++) {
        struct rwkv_act_group * group = &groups[g];
        memset(group, 0, sizeof *group);
        for (size_t i = 0; i < RWKV_ACT_GROUP_BLOCKS && g * RWKV_ACT_GROUP_BLOCKS + i < n_blocks; i++) {
            const uint8_t * block = blocks + (g * RWKV_ACT_GROUP_BLOCKS + i) * block_bytes;
            struct rwkv_act_quad * quad = &group->quads[i / 4];
            memcpy(quad->lo + 16 * (i % 4), block + qs, 16);
            memcpy(quad->hi + 16 * (i % 4), block + qs + 16, 16);
            const size_t lane = RWKV_ACT_GROUP_LANE(i);
            uint16_t d, s;
            memcpy(&d, block, 2);
            group->d[lane] = rwkv_fp16_to_fp32(d);
            if (affine) {
                memcpy(&s, block + 2, 2);
                group->s[lane] = rwkv_fp16_to_fp32(s);
            }
            int sum = 0;
            for (int k = 0; k < 32; k++) {
                sum += (int8_t)block[qs + k];
            }
            group->offsets[lane] = offset * sum;
        }
        rwkv_act_group_interleave(group);
    }
}

void rwkv_prepare_act_groups(uint32_t weight_type, const float * x, size_t x_stride, size_t n_in, size_t n_cols,
                            void * act, size_t act_stride) {
    if (!rwkv_type_is_quantized(weight_type)) {
        rwkv_prepare_act_portable(weight_type, x, x_stride, n_in, n_cols, act, act_stride);
        return;
    }
    const size_t n_blocks = n_in / RWKV_QK;
    /* Through a small buffer of standard blocks, 64 (a multiple of sixteen) at a time. */
    uint8_t blocks[64 * sizeof(struct rwkv_block_q8_1)];
    for (size_t c = 0; c < n_cols; c++) {
        struct rwkv_act_group * groups = (struct rwkv_act_group *)((uint8_t *)act + c * act_stride);
        for (size_t first = 0; first < n_blocks; first += 64) {
            size_t count = n_blocks - first < 64 ? n_blocks - first : 64;
            prepare_column(weight_type, x + c * x_stride + first * RWKV_QK, count * RWKV_QK, blocks);
            group_column(weight_type, blocks, count, groups + first / RWKV_ACT_GROUP_BLOCKS);
        }
    }
}

/* ---- Dot products of one weight row with one activation column --------------------------- */

/* Eight partial sums, as a vector unit would keep them, then a fixed pairwise reduction. */
static float sum_lanes(const float lanes[8]) {
    return ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
}

/* Element i goes to lane i % 8; the full groups are written out so compilers can vectorize them. */
static float dot_fp32(const uint8_t * w, const float * x, size_t n) {
    float lanes[8] = { 0 };
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (size_t k = 0; k < 8; k++) {
            lanes[k] += load_fp32(w + 4 * (i + k)) * x[i + k];
        }
    }
    for (size_t k = 0; i + k < n; k++) {
        lanes[k] += load_fp32(w + 4 * (i + k)) * x[i + k];
    }
    return sum_lanes(lanes);
}

static float dot_fp16(const uint8_t * w, const float * x, size_t n) {
    float lanes[8] = { 0 };
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (size_t k = 0; k < 8; k++) {
            lanes[k] += load_fp16(w + 2 * (i + k)) * x[i + k];
        }
    }
    for (size_t k = 0; i + k < n; k++) {
        lanes[k] += load_fp16(w + 2 * (i + k)) * x[i + k];
    }
    return sum_lanes(lanes);
}

/*
 * A 4/5-bit block's 32 values (nibble | fifth bit << 4, minus offset) as int8, ready for dot_int8.
 * Simple separate loops, so compilers vectorize each.
 */
static void unpack_nibbles(const uint8_t * qs, const uint8_t * qh, int offset, int8_t q[RWKV_QK]) {
    for (int j = 0; j < RWKV_QK / 2; j++) {
        q[j] = (int8_t)(qs[j] & 0x0f);
        q[j + RWKV_QK / 2] = (int8_t)(qs[j] >> 4);
    }
    if (qh != NULL) {
        uint32_t bits = load_u32(qh);
        for (int j = 0; j < RWKV_QK; j++) {
            q[j] = (int8_t)(q[j] | (int8_t)(((bits >> j) & 1) << 4));
        }
    }
    for (int j = 0; j < RWKV_QK; j++) {
        q[j] = (int8_t)(q[j] - offset);
    }
}

/* Exact integer dot of 32 weight and activation values (separate loops vectorize better than one). */
static int dot_int8(const int8_t * q, const int8_t * y) {
    int sum = 0;
    for (int j = 0; j < RWKV_QK; j++) {
        sum += q[j] * y[j];
    }
    return sum;
}

/* Q4_0, Q5_0, Q8_0: sum over blocks of (d_w * d_x) * exact integer dot. */
static float dot_symmetric(uint32_t type, const uint8_t * w, const struct rwkv_block_q8_0 * x, size_t n_blocks) {
    size_t block_bytes = rwkv_type_block_bytes(type);
    float sum = 0.0f;
    int8_t q[RWKV_QK];
    for (size_t b = 0; b < n_blocks; b++, w += block_bytes) {
        if (type == RWKV_TYPE_Q8_0) {
            memcpy(q, w + 2, RWKV_QK);
        } else if (type == RWKV_TYPE_Q5_0) {
            unpack_nibbles(w + 6, w + 2, 16, q);
        } else {
            unpack_nibbles(w + 2, NULL, 8, q);
        }
        sum += (load_fp16(w) * rwkv_fp16_to_fp32(x[b].d)) * (float)dot_int8(q, x[b].qs);
    }
    return sum;
}

/* Q4_1, Q5_1: the same with unsigned q, plus m_w * s_x per block, summed apart and added last. */
static float dot_affine(uint32_t type, const uint8_t * w, const struct rwkv_block_q8_1 * x, size_t n_blocks) {
    size_t block_bytes = rwkv_type_block_bytes(type);
    float sum = 0.0f;
    float sum_min = 0.0f;
    int8_t q[RWKV_QK];
    for (size_t b = 0; b < n_blocks; b++, w += block_bytes) {
        if (type == RWKV_TYPE_Q5_1) {
            unpack_nibbles(w + 8, w + 4, 0, q);
        } else {
            unpack_nibbles(w + 4, NULL, 0, q);
        }
        sum += (load_fp16(w) * rwkv_fp16_to_fp32(x[b].d)) * (float)dot_int8(q, x[b].qs);
        sum_min += load_fp16(w + 2) * rwkv_fp16_to_fp32(x[b].s);
    }
    return sum + sum_min;
}

static float dot_row(const struct rwkv_matrix * w, size_t row, const uint8_t * act) {
    const uint8_t * weights = w->data + row * w->row_bytes;
    size_t n_blocks = w->n_in / RWKV_QK;
    switch (w->type) {
    case RWKV_TYPE_FP32:
        return dot_fp32(weights, (const float *)act, w->n_in);
    case RWKV_TYPE_FP16:
        return dot_fp16(weights, (const float *)act, w->n_in);
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

/* Each element is one dot_row call, so its value cannot depend on the tiling or the row range. */
static void matmul_scalar(const struct rwkv_matrix * w, const void * act, size_t act_stride, size_t n_cols, float * y,
                          size_t y_stride, size_t row_begin, size_t row_end) {
    size_t tile_rows = TILE_BYTES / (w->row_bytes + 1) + 1;
    for (size_t tile = row_begin; tile < row_end; tile += tile_rows) {
        size_t tile_end = tile + tile_rows < row_end ? tile + tile_rows : row_end;
        for (size_t c = 0; c < n_cols; c++) {
            const uint8_t * column = (const uint8_t *)act + c * act_stride;
            for (size_t r = tile; r < tile_end; r++) {
                y[c * y_stride + r] = dot_row(w, r, column);
            }
        }
    }
}

const struct rwkv_kernels rwkv_kernels_scalar = {
    .name = "scalar",
    .prepare_act = rwkv_prepare_act_portable,
    .matmul = matmul_scalar,
    .quantize_row = rwkv_quantize_row_portable,
};
