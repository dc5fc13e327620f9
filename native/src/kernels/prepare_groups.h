/*
 * What prepare_avx2.c and prepare_avx512.c share: the conversion's loop over columns and, for
 * the files that quantize block by block, filling rwkv_act_group records from those blocks. The
 * including file defines the functions declared below, byte for byte as the portable conversion
 * (kernels_scalar.c) computes them.
 */
#ifndef RWKV_PREPARE_GROUPS_H
#define RWKV_PREPARE_GROUPS_H

#include <immintrin.h>
#include <string.h>

#include "data_types.h"
#include "fp16.h"
#include "kernels.h"

/* Inputs of FP16 matrices rounded to binary16 and back. */
static void round_to_fp16(const float * x, size_t n, float * out);

/* Group record `group` of a column from its first n_blocks (1..16 used) blocks of floats at x. An
   includer that defines PREPARE_GROUP_RECORD writes its own; the others quantize block by block. */
static void group_record(uint32_t weight_type, const float * x, size_t n_blocks, struct rwkv_act_group * group);

#ifndef PREPARE_GROUP_RECORD
/* One block of 32 floats to 32 int8 (lo: elements 0-15, hi: 16-31); returns d = amax / 127. */
static float quantize_block(const float * x, __m128i * lo, __m128i * hi, int * sum_q);

/*
 * rwkv_act_group_interleave with vector registers: interleaved[k]'s 128-bit lane L is the 4 x 4
 * dword transpose of the quads' lanes L (dword 4L + j = quads[j]'s dword 4L + k), done in
 * registers instead of 128 four-byte copies (one thread, batch of 8 v7 0.4B Q5_1: +0.9%).
 */
static void interleave_group(struct rwkv_act_group * group) {
    for (int half = 0; half < 2; half++) {
        for (int lane = 0; lane < 4; lane++) {
            __m128i q[4];
            for (int j = 0; j < 4; j++) {
                const int8_t * from = half == 0 ? group->quads[j].lo : group->quads[j].hi;
                q[j] = _mm_loadu_si128((const __m128i *)(from + 16 * lane));
            }
            const __m128i t0 = _mm_unpacklo_epi32(q[0], q[1]), t1 = _mm_unpackhi_epi32(q[0], q[1]);
            const __m128i t2 = _mm_unpacklo_epi32(q[2], q[3]), t3 = _mm_unpackhi_epi32(q[2], q[3]);
            const __m128i t[4] = { _mm_unpacklo_epi64(t0, t2), _mm_unpackhi_epi64(t0, t2),
                                   _mm_unpacklo_epi64(t1, t3), _mm_unpackhi_epi64(t1, t3) };
            for (int k = 0; k < 4; k++) {
                int8_t * to = half == 0 ? group->interleaved[k].lo : group->interleaved[k].hi;
                _mm_storeu_si128((__m128i *)(to + 16 * lane), t[k]);
            }
        }
    }
}

static void group_record(uint32_t weight_type, const float * x, size_t n_blocks, struct rwkv_act_group * group) {
    const bool affine = weight_type == RWKV_TYPE_Q4_1 || weight_type == RWKV_TYPE_Q5_1;
    const int offset = rwkv_act_group_offset(weight_type);
    if (n_blocks < RWKV_ACT_GROUP_BLOCKS) {
        memset(group, 0, sizeof *group); /* the missing blocks: all zeros */
    } else if (!affine) {
        memset(group->s, 0, sizeof group->s); /* every other field is written below */
    }
    for (size_t i = 0; i < RWKV_ACT_GROUP_BLOCKS && i < n_blocks; i++) {
        __m128i lo, hi;
        int sum_q;
        const float d = quantize_block(x + i * RWKV_QK, &lo, &hi, &sum_q);
        struct rwkv_act_quad * quad = &group->quads[i / 4];
        _mm_storeu_si128((__m128i *)(quad->lo + 16 * (i % 4)), lo);
        _mm_storeu_si128((__m128i *)(quad->hi + 16 * (i % 4)), hi);
        const size_t lane = RWKV_ACT_GROUP_LANE(i);
        group->d[lane] = rwkv_fp16_to_fp32(rwkv_fp32_to_fp16(d));
        if (affine) {
            group->s[lane] = rwkv_fp16_to_fp32(rwkv_fp32_to_fp16(d * (float)sum_q));
        }
        group->offsets[lane] = offset * sum_q;
    }
    interleave_group(group);
}
#endif

/* A prepare_act (kernels.h) through the includer's group_record and round_to_fp16. */
static void prepare_act_groups(uint32_t weight_type, const float * x, size_t x_stride, size_t n_in, size_t n_cols,
                               void * act, size_t act_stride) {
    if (weight_type == RWKV_TYPE_FP16) {
        for (size_t c = 0; c < n_cols; c++) {
            round_to_fp16(x + c * x_stride, n_in, (float *)((uint8_t *)act + c * act_stride));
        }
        return;
    }
    if (!rwkv_type_is_quantized(weight_type)) {
        rwkv_prepare_act_portable(weight_type, x, x_stride, n_in, n_cols, act, act_stride);
        return;
    }
    const size_t n_blocks = n_in / RWKV_QK;
    for (size_t c = 0; c < n_cols; c++) {
        struct rwkv_act_group * groups = (struct rwkv_act_group *)((uint8_t *)act + c * act_stride);
        for (size_t g = 0; g * RWKV_ACT_GROUP_BLOCKS < n_blocks; g++) {
            group_record(weight_type, x + c * x_stride + g * RWKV_ACT_GROUP_BLOCKS * RWKV_QK,
                         n_blocks - g * RWKV_ACT_GROUP_BLOCKS, &groups[g]);
        }
    }
}

#endif
