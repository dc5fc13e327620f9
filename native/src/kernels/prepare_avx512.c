/*
 * The AVX-512 level's activation conversion: for quantized weights sixteen 32-element blocks (one
 * rwkv_act_group) are quantized to Q8 together, straight into the group record; for FP16 weights
 * (in quantized files) the inputs are rounded with F16C. Byte for byte what
 * rwkv_prepare_act_groups makes (test_kernels compares them, NaN and infinities included).
 */
#include <immintrin.h>
#include <string.h>

#include "data_types.h"
#include "fp16.h"
#include "kernels.h"
#define PREPARE_GROUP_RECORD
#include "prepare_groups.h"

/* Binary16 rounding of each lane; NaN as the software conversion makes it (sign kept, payload
   canonical), so the bytes match rwkv_fp32_to_fp16 for every input. */
static __m512 round_lanes_to_fp16(__m512 v) {
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    const __m512i quiet_nan = _mm512_set1_epi32(0x7fc00000);
    const __m512 rounded = _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    const __m512i canonical = _mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(v), sign), quiet_nan);
    return _mm512_mask_mov_ps(rounded, nan, _mm512_castsi512_ps(canonical));
}

/* max of two vectors, or their sum as int32 lanes. */
static inline __attribute__((always_inline)) __m512 combine(__m512 a, __m512 b, bool integer_sum) {
    return integer_sum ? _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)))
                       : _mm512_max_ps(a, b);
}

/*
 * Sixteen vectors reduced to one, lane by lane: lane 4L + j of the result combines all lanes of
 * v[4j + L], which is the group lane order (RWKV_ACT_GROUP_LANE). Each step combines halves of
 * two vectors at once, so the sixteen reductions share their shuffles. Max and integer sums give
 * the same result in any order.
 */
static inline __attribute__((always_inline)) __m512 reduce_lanes_x16(const __m512 v[16], bool integer_sum) {
    __m512 s8[8], s4[4], s2[2];
    for (int m = 0; m < 8; m++) {
        /* 128-bit chunks 0-1: v[2m]'s lanes l and l + 8 combined; chunks 2-3: v[2m + 1]'s */
        s8[m] = combine(_mm512_shuffle_f32x4(v[2 * m], v[2 * m + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                        _mm512_shuffle_f32x4(v[2 * m], v[2 * m + 1], _MM_SHUFFLE(3, 2, 3, 2)), integer_sum);
    }
    for (int m = 0; m < 4; m++) {
        /* chunk q: v[4m + q]'s lanes l and l + 4 */
        s4[m] = combine(_mm512_shuffle_f32x4(s8[2 * m], s8[2 * m + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                        _mm512_shuffle_f32x4(s8[2 * m], s8[2 * m + 1], _MM_SHUFFLE(3, 1, 3, 1)), integer_sum);
    }
    for (int m = 0; m < 2; m++) {
        /* chunk q, lanes 0-1: v[8m + q]'s; lanes 2-3: v[8m + 4 + q]'s */
        s2[m] = combine(_mm512_shuffle_ps(s4[2 * m], s4[2 * m + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                        _mm512_shuffle_ps(s4[2 * m], s4[2 * m + 1], _MM_SHUFFLE(3, 2, 3, 2)), integer_sum);
    }
    /* chunk q: v[q], v[4 + q], v[8 + q], v[12 + q] */
    return combine(_mm512_shuffle_ps(s2[0], s2[1], _MM_SHUFFLE(2, 0, 2, 0)),
                   _mm512_shuffle_ps(s2[0], s2[1], _MM_SHUFFLE(3, 1, 3, 1)), integer_sum);
}

/* The four blocks' 16-byte halves of a quad as one vector: [A | B | C | D]. */
static inline __m512i quad_of(const __m128i h[4]) {
    __m512i v = _mm512_castsi128_si512(h[0]);
    v = _mm512_inserti32x4(v, h[1], 1);
    v = _mm512_inserti32x4(v, h[2], 2);
    return _mm512_inserti32x4(v, h[3], 3);
}

/* interleaved[k] of one half (lo or hi) from its four quads: in each 128-bit lane L, the 4 x 4
   dword transpose (dword 4L + j = quads[j]'s dword 4L + k), as rwkv_act_group_interleave. */
static void interleave_half(const __m512i q[4], struct rwkv_act_quad * interleaved, bool hi) {
    const __m512i t0 = _mm512_unpacklo_epi32(q[0], q[1]), t1 = _mm512_unpackhi_epi32(q[0], q[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(q[2], q[3]), t3 = _mm512_unpackhi_epi32(q[2], q[3]);
    const __m512i t[4] = { _mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2),
                           _mm512_unpacklo_epi64(t1, t3), _mm512_unpackhi_epi64(t1, t3) };
    for (int k = 0; k < 4; k++) {
        _mm512_storeu_si512(hi ? interleaved[k].hi : interleaved[k].lo, t[k]);
    }
}

/*
 * A whole group at once: the sixteen blocks' maxima and sums of q reduce together
 * (reduce_lanes_x16) and their scales convert as one vector, where block by block each waited on
 * two horizontal reductions, a division and the software binary16 conversions (8 columns of 768
 * or 4096 inputs: 2.0 -> 0.6 cycles of the time-stamp counter per element). The same maximum
 * (NaN never wins), division, multiply and round-half-even per element as the portable code;
 * binary16 rounding in F16C is the software conversion's (round_lanes_to_fp16). Blocks past
 * n_blocks read as zeros and come out as zeros.
 */
static void group_record(uint32_t weight_type, const float * x, size_t n_blocks, struct rwkv_act_group * group) {
    const bool affine = weight_type == RWKV_TYPE_Q4_1 || weight_type == RWKV_TYPE_Q5_1;
    const __m512 zero = _mm512_setzero_ps();
    /* max(|x|, m) returns m where |x| is NaN (the second operand wins), as the scalar '>' does. */
    __m512 maxima[RWKV_ACT_GROUP_BLOCKS];
    for (size_t i = 0; i < RWKV_ACT_GROUP_BLOCKS; i++) {
        maxima[i] = zero;
        if (i < n_blocks) {
            maxima[i] = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i * RWKV_QK)), zero);
            maxima[i] = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i * RWKV_QK + 16)), maxima[i]);
        }
    }
    const __m512 amax = reduce_lanes_x16(maxima, false);
    const __m512 d = _mm512_div_ps(amax, _mm512_set1_ps(127.0f));
    float inverse[RWKV_ACT_GROUP_BLOCKS];
    _mm512_storeu_ps(inverse, _mm512_maskz_div_ps(_mm512_cmp_ps_mask(amax, zero, _CMP_NEQ_OQ),
                                                  _mm512_set1_ps(127.0f), amax));
    const __m512 limit = _mm512_set1_ps(127.0f), low_limit = _mm512_set1_ps(-127.0f);
    __m512 sums[RWKV_ACT_GROUP_BLOCKS];
    __m128i lo[RWKV_ACT_GROUP_BLOCKS], hi[RWKV_ACT_GROUP_BLOCKS];
    for (size_t i = 0; i < RWKV_ACT_GROUP_BLOCKS; i++) {
        __m512i q[2] = { _mm512_setzero_si512(), _mm512_setzero_si512() };
        if (i < n_blocks) {
            const __m512 id = _mm512_set1_ps(inverse[RWKV_ACT_GROUP_LANE(i)]);
            for (int h = 0; h < 2; h++) {
                const __m512 r = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i * RWKV_QK + 16 * h), id),
                                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                /* Out of range or NaN (inf or NaN inputs): 0, as in the portable code. */
                const __mmask16 ok = _mm512_cmp_ps_mask(r, limit, _CMP_LE_OQ) &
                                     _mm512_cmp_ps_mask(r, low_limit, _CMP_GE_OQ);
                q[h] = _mm512_maskz_cvtps_epi32(ok, r);
            }
        }
        lo[i] = _mm512_cvtepi32_epi8(q[0]);
        hi[i] = _mm512_cvtepi32_epi8(q[1]);
        sums[i] = _mm512_castsi512_ps(_mm512_add_epi32(q[0], q[1]));
    }
    const __m512i sum_q = _mm512_castps_si512(reduce_lanes_x16(sums, true));
    _mm512_storeu_ps(group->d, round_lanes_to_fp16(d));
    _mm512_storeu_ps(group->s, affine ? round_lanes_to_fp16(_mm512_mul_ps(d, _mm512_cvtepi32_ps(sum_q))) : zero);
    _mm512_storeu_si512(group->offsets,
                        _mm512_mullo_epi32(sum_q, _mm512_set1_epi32(rwkv_act_group_offset(weight_type))));
    __m512i quads_lo[4], quads_hi[4];
    for (int j = 0; j < 4; j++) {
        quads_lo[j] = quad_of(lo + 4 * j);
        quads_hi[j] = quad_of(hi + 4 * j);
        _mm512_storeu_si512(group->quads[j].lo, quads_lo[j]);
        _mm512_storeu_si512(group->quads[j].hi, quads_hi[j]);
    }
    interleave_half(quads_lo, group->interleaved, false);
    interleave_half(quads_hi, group->interleaved, true);
}

/* Inputs of FP16 matrices rounded to binary16 and back, NaN included (round_lanes_to_fp16). */
static void round_to_fp16(const float * x, size_t n, float * out) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm512_storeu_ps(out + i, round_lanes_to_fp16(_mm512_loadu_ps(x + i)));
    }
    for (; i < n; i++) {
        out[i] = rwkv_fp16_to_fp32(rwkv_fp32_to_fp16(x[i]));
    }
}

void rwkv_prepare_act_groups_avx512(uint32_t weight_type, const float * x, size_t x_stride, size_t n_in,
                                   size_t n_cols, void * act, size_t act_stride) {
    prepare_act_groups(weight_type, x, x_stride, n_in, n_cols, act, act_stride);
}
