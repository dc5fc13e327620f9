/*
 * The AVX-512 level's activation conversion: for quantized weights each 32-element block is
 * quantized to Q8 in two 512-bit registers and written straight into rwkv_act_group records; for
 * FP16 weights (in quantized files) the inputs are rounded with F16C. Byte for byte what
 * rwkv_prepare_act_groups makes (test_kernels compares them): the same maximum (NaN never wins),
 * one division, a multiply and round-half-even per element, the binary16 scales through the same
 * software conversion. In sequence mode the portable loop cost about a tenth of a quantized
 * product's time.
 */
#include <immintrin.h>
#include <string.h>

#include "data_types.h"
#include "fp16.h"
#include "kernels.h"
#include "prepare_groups.h"

static float quantize_block(const float * x, __m128i * lo, __m128i * hi, int * sum_q) {
    const __m512 a = _mm512_loadu_ps(x);
    const __m512 b = _mm512_loadu_ps(x + 16);
    /* max(|x|, m) returns m where |x| is NaN (the second operand wins), as the scalar '>' does. */
    __m512 m = _mm512_max_ps(_mm512_abs_ps(a), _mm512_setzero_ps());
    m = _mm512_max_ps(_mm512_abs_ps(b), m);
    const float amax = _mm512_reduce_max_ps(m);
    const __m512 id = _mm512_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    const __m512 limit = _mm512_set1_ps(127.0f);
    const __m512 qa = _mm512_roundscale_ps(_mm512_mul_ps(a, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 qb = _mm512_roundscale_ps(_mm512_mul_ps(b, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    /* Out of range or NaN (inf or NaN inputs): 0, as in the portable code. */
    const __mmask16 ok_a = _mm512_cmp_ps_mask(qa, limit, _CMP_LE_OQ) &
                           _mm512_cmp_ps_mask(qa, _mm512_set1_ps(-127.0f), _CMP_GE_OQ);
    const __mmask16 ok_b = _mm512_cmp_ps_mask(qb, limit, _CMP_LE_OQ) &
                           _mm512_cmp_ps_mask(qb, _mm512_set1_ps(-127.0f), _CMP_GE_OQ);
    const __m512i ia = _mm512_maskz_cvtps_epi32(ok_a, qa);
    const __m512i ib = _mm512_maskz_cvtps_epi32(ok_b, qb);
    *lo = _mm512_cvtepi32_epi8(ia);
    *hi = _mm512_cvtepi32_epi8(ib);
    *sum_q = _mm512_reduce_add_epi32(_mm512_add_epi32(ia, ib));
    return amax / 127.0f;
}

/* Inputs of FP16 matrices rounded to binary16 and back; NaN as the software conversion makes it
   (sign kept, payload canonical), so the bytes match rwkv_fp32_to_fp16 for every input. */
static void round_to_fp16(const float * x, size_t n, float * out) {
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    const __m512i quiet_nan = _mm512_set1_epi32(0x7fc00000);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        __m512 rounded = _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        const __m512i canonical = _mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(v), sign), quiet_nan);
        rounded = _mm512_mask_mov_ps(rounded, nan, _mm512_castsi512_ps(canonical));
        _mm512_storeu_ps(out + i, rounded);
    }
    for (; i < n; i++) {
        out[i] = rwkv_fp16_to_fp32(rwkv_fp32_to_fp16(x[i]));
    }
}

void rwkv_prepare_act_groups_avx512(uint32_t weight_type, const float * x, size_t x_stride, size_t n_in,
                                   size_t n_cols, void * act, size_t act_stride) {
    prepare_act_groups(weight_type, x, x_stride, n_in, n_cols, act, act_stride);
}
