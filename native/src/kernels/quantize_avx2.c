/*
 * The quantizer's inner loop with AVX2 and F16C: FP16 or FP32 rows to Q4_1 or Q5_1, eight
 * elements per instruction, byte-identical to the reference (quant_blocks.c).
 *
 * Identity holds because every float operation is the reference's own, element by element: the
 * block minimum and maximum are exact whatever the order they are found in, the scale and its
 * inverse are computed by the reference's scalar expression, and (x - min) * id + 0.5 is three
 * separately rounded operations (this file is compiled without FMA, so none can be fused). Two
 * things depend on the reference's order, and blocks where they could matter go to the reference:
 * a minimum or maximum of zero (which of +0 and -0 came first decides the stored sign) and
 * non-finite elements. Trained weights almost never hit either.
 */
#include <immintrin.h>
#include <string.h>

#include "data_types.h"
#include "fp16.h"
#include "kernels.h"
#include "quant_blocks.h"
#include "reduce_avx2.h"

/* The 32 elements of one block as four vectors of eight floats. */
static void load_block(uint32_t source_type, const uint8_t * source, __m256 x[4]) {
    for (int i = 0; i < 4; i++) {
        if (source_type == RWKV_TYPE_FP16) {
            x[i] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(source + 16 * i)));
        } else {
            x[i] = _mm256_loadu_ps((const float *)source + 8 * i);
        }
    }
}

static void store_fp16(uint8_t * out, float value) {
    uint16_t h = rwkv_fp32_to_fp16(value);
    out[0] = (uint8_t)(h & 0xff);
    out[1] = (uint8_t)(h >> 8);
}

/* False if the block needs the reference: a non-finite element, or a zero minimum or maximum. */
static bool quantize_affine_block(const __m256 x[4], int levels, uint8_t * block, bool fifth_bits) {
    __m256 finite = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    for (int i = 0; i < 4; i++) {
        /* x * 0 is 0 for finite x and NaN otherwise. */
        finite = _mm256_and_ps(finite, _mm256_cmp_ps(_mm256_mul_ps(x[i], _mm256_setzero_ps()), _mm256_setzero_ps(),
                                                     _CMP_EQ_OQ));
    }
    if (_mm256_movemask_ps(finite) != 0xff) {
        return false;
    }
    const float min = horizontal_min(_mm256_min_ps(_mm256_min_ps(x[0], x[1]), _mm256_min_ps(x[2], x[3])));
    const float max = horizontal_max(_mm256_max_ps(_mm256_max_ps(x[0], x[1]), _mm256_max_ps(x[2], x[3])));
    if (min == 0.0f || max == 0.0f) {
        return false;
    }
    const float d = (max - min) / (float)levels;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256 vmin = _mm256_set1_ps(min), vid = _mm256_set1_ps(id), half = _mm256_set1_ps(0.5f);
    const __m256 limit = _mm256_set1_ps(64.0f);
    __m256i q[4];
    for (int i = 0; i < 4; i++) {
        __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(x[i], vmin), vid), half);
        /* The reference's conversion: v in [0, 64) truncates, anything else (inf, NaN) is 0. */
        __m256 in_range = _mm256_and_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ),
                                        _mm256_cmp_ps(v, limit, _CMP_LT_OQ));
        __m256i t = _mm256_and_si256(_mm256_cvttps_epi32(v), _mm256_castps_si256(in_range));
        q[i] = _mm256_min_epi32(t, _mm256_set1_epi32(levels));
    }
    /* 32 int32 to 32 bytes in element order. */
    __m256i words = _mm256_packus_epi32(q[0], q[1]);
    __m256i words2 = _mm256_packus_epi32(q[2], q[3]);
    __m256i bytes = _mm256_packus_epi16(words, words2);
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));

    store_fp16(block, d);
    store_fp16(block + 2, min);
    uint8_t * qs = block + 4;
    if (fifth_bits) {
        /* Bit 4 of each byte moved to bit 7, where movemask collects it: bit j = fifth bit of element j. */
        uint32_t bits = (uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(bytes, 3));
        for (int i = 0; i < 4; i++) {
            block[4 + i] = (uint8_t)(bits >> (8 * i));
        }
        qs = block + 8;
    }
    const __m128i low_nibbles = _mm_set1_epi8(0x0f);
    __m128i first = _mm_and_si128(_mm256_castsi256_si128(bytes), low_nibbles);
    __m128i second = _mm_and_si128(_mm256_extracti128_si256(bytes, 1), low_nibbles);
    _mm_storeu_si128((__m128i *)qs, _mm_or_si128(first, _mm_slli_epi16(second, 4)));
    return true;
}

void rwkv_quantize_row_avx2(uint32_t source_type, const uint8_t * source, size_t n, uint32_t target, float * scratch,
                            uint8_t * out) {
    const bool supported = (source_type == RWKV_TYPE_FP16 || source_type == RWKV_TYPE_FP32) &&
                           (target == RWKV_TYPE_Q4_1 || target == RWKV_TYPE_Q5_1);
    if (!supported) {
        rwkv_quantize_row_portable(source_type, source, n, target, scratch, out);
        return;
    }
    const size_t source_block = RWKV_QK * (source_type == RWKV_TYPE_FP16 ? 2 : 4);
    const size_t block_bytes = rwkv_type_block_bytes(target);
    const int levels = target == RWKV_TYPE_Q5_1 ? 31 : 15;
    for (size_t b = 0; b < n / RWKV_QK; b++, source += source_block, out += block_bytes) {
        __m256 x[4];
        load_block(source_type, source, x);
        if (!quantize_affine_block(x, levels, out, target == RWKV_TYPE_Q5_1)) {
            rwkv_dequantize_row(source_type, source, RWKV_QK, scratch);
            rwkv_quantize_row(target, scratch, RWKV_QK, out);
        }
    }
}
