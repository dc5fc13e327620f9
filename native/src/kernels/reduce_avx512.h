/*
 * Horizontal sums of 512-bit float vectors, for the AVX-512 files: one vector's, and several
 * vectors' at once with the same additions in the same order, so every sum keeps its bits
 * whichever way a tile reduces it (lane i + lane i+8, then i + i+4, then i + i+2, then i + i+1).
 */
#ifndef RWKV_REDUCE_AVX512_H
#define RWKV_REDUCE_AVX512_H

#include <immintrin.h>

#if defined(_MSC_VER) && !defined(__clang__)
#define REDUCE_INLINE static __forceinline
#else
#define REDUCE_INLINE static inline __attribute__((always_inline))
#endif

REDUCE_INLINE float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

REDUCE_INLINE float hsum512(__m512 v) {
    return hsum256(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

/*
 * The steps of several reductions at once: 30 shuffles and 15 adds for sixteen vectors instead of
 * sixteen separate reductions (on rows of 768 those were a tenth of a 4 x 4 tile's instructions).
 */
REDUCE_INLINE __m512 pair_halves(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
}

REDUCE_INLINE __m512 pair_quarters(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}

REDUCE_INLINE __m512 pair_lane_halves(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
}

REDUCE_INLINE __m512 pair_lanes(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}

/* Sixteen sums: hsum512(v[k]) in lane 4 * (k % 4) + k / 4. */
REDUCE_INLINE __m512 hsum512_x16(const __m512 v[16]) {
    __m512 halves[8], quarters[4], pairs[2];
    for (int i = 0; i < 8; i++) {
        halves[i] = pair_halves(v[2 * i], v[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        quarters[i] = pair_quarters(halves[2 * i], halves[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        pairs[i] = pair_lane_halves(quarters[2 * i], quarters[2 * i + 1]);
    }
    return pair_lanes(pairs[0], pairs[1]);
}

#endif
