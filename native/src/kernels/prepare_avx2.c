/*
 * The AVX2 level's activation conversion: for quantized weights each 32-element block is
 * quantized to Q8 in four 256-bit registers and written into rwkv_act_group records; for FP16
 * weights (in quantized files) the inputs are rounded with F16C. Byte for byte what
 * rwkv_prepare_act_groups makes (test_kernels compares them), as prepare_avx512.c: the same
 * maximum (NaN never wins), one division, a multiply and round-half-even per element, the
 * binary16 scales through the same software conversion. The portable loop was 7% of a batched
 * step of v7 0.4B Q5_1 at this level.
 */
#include <immintrin.h>
#include <string.h>

#include "data_types.h"
#include "fp16.h"
#include "kernels.h"
#include "prepare_groups.h"
#include "reduce_avx2.h"

static int sum8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

static float quantize_block(const float * x, __m128i * lo, __m128i * hi, int * sum_q) {
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 v[4];
    /* max(|x|, m) returns m where |x| is NaN (the second operand wins), as the scalar '>' does. */
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < 4; k++) {
        v[k] = _mm256_loadu_ps(x + 8 * k);
        m = _mm256_max_ps(_mm256_and_ps(v[k], magnitude), m);
    }
    const float amax = horizontal_max(m);
    const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    __m256i q[4];
    for (int k = 0; k < 4; k++) {
        const __m256 r = _mm256_round_ps(_mm256_mul_ps(v[k], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        /* Out of range or NaN (inf or NaN inputs): 0, as in the portable code. */
        const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(r, _mm256_set1_ps(127.0f), _CMP_LE_OQ),
                                        _mm256_cmp_ps(r, _mm256_set1_ps(-127.0f), _CMP_GE_OQ));
        q[k] = _mm256_and_si256(_mm256_cvtps_epi32(r), _mm256_castps_si256(ok));
    }
    /* Packing works per 128-bit lane: dwords of bytes come out as [q0 0-3, q1 0-3, q2 0-3, q3 0-3
       | q0 4-7, q1 4-7, q2 4-7, q3 4-7], which one permute puts in element order. */
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    *lo = _mm256_castsi256_si128(ordered);
    *hi = _mm256_extracti128_si256(ordered, 1);
    *sum_q = sum8(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
    return amax / 127.0f;
}

/* Inputs of FP16 matrices rounded to binary16 and back; NaN as the software conversion makes it
   (sign kept, payload canonical), so the bytes match rwkv_fp32_to_fp16 for every input. */
static void round_to_fp16(const float * x, size_t n, float * out) {
    const __m256i sign = _mm256_set1_epi32((int)0x80000000u);
    const __m256i quiet_nan = _mm256_set1_epi32(0x7fc00000);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 rounded = _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
        const __m256i canonical = _mm256_or_si256(_mm256_and_si256(_mm256_castps_si256(v), sign), quiet_nan);
        _mm256_storeu_ps(out + i, _mm256_blendv_ps(rounded, _mm256_castsi256_ps(canonical), nan));
    }
    for (; i < n; i++) {
        out[i] = rwkv_fp16_to_fp32(rwkv_fp32_to_fp16(x[i]));
    }
}

void rwkv_prepare_act_groups_avx2(uint32_t weight_type, const float * x, size_t x_stride, size_t n_in, size_t n_cols,
                                  void * act, size_t act_stride) {
    prepare_act_groups(weight_type, x, x_stride, n_in, n_cols, act, act_stride);
}
