/*
 * AVX-512 products of quantized weights with rwkv_act_quad activations: four blocks (128 weights)
 * per step in 512-bit registers. Included by kernels_avx512.c (integer dots with maddubs) and
 * kernels_avx512_vnni.c (with VNNI's dpbusd), which define QUAD_DOT_VNNI as 0 or 1 first. The
 * integer sums are exact either way and every float operation is the same, so both give the same
 * bits; so do the one-column (decoding) and many-column (sequence) tiles.
 *
 * Per step and column: int32 lane i holds the exact dot of bytes 4i..4i+3 of the lo and hi
 * halves (lanes 0-3 block A, 4-7 B, 8-11 C, 12-15 D); it is scaled by its block's d_w * d_x and
 * added to a float accumulator. Q4_1/Q5_1 add m_w * s_x per block in a second accumulator.
 */
#ifndef QUAD_DOT_VNNI
#error "define QUAD_DOT_VNNI (0 or 1) before including quads_avx512.h"
#endif

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "data_types.h"
#include "kernels.h"

#define QUAD_ALWAYS_INLINE static inline __attribute__((always_inline))

/* Columns per sequence-mode tile: the weights are decoded once for all of them. */
#define QUAD_COLS 8
/* Sequence mode prefetches the weights of the row this many rows ahead. */
#define PREFETCH_ROWS_AHEAD 4

typedef void (*quad_tile_fn)(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,
                             float * y, size_t y_stride);
typedef void (*quad_rows_fn)(const struct rwkv_matrix * w, size_t row_begin, size_t row_end, const uint8_t * act,
                             float * y);

/* A type's tiles: QUAD_COLS columns, or one; and decoding's loop over rows (one call per slice,
   not per row: short rows made the call and its set-up a tenth of the work). */
struct quad_tiles {
    quad_tile_fn many_cols, one_col;
    quad_rows_fn decode_rows;
};

QUAD_ALWAYS_INLINE size_t quad_block_bytes(uint32_t type) {
    switch (type) {
    case RWKV_TYPE_Q4_0: return 18;
    case RWKV_TYPE_Q4_1: return 20;
    case RWKV_TYPE_Q5_0: return 22;
    case RWKV_TYPE_Q5_1: return 24;
    default: return 34;
    }
}

QUAD_ALWAYS_INLINE bool quad_affine(uint32_t type) {
    return type == RWKV_TYPE_Q4_1 || type == RWKV_TYPE_Q5_1;
}

QUAD_ALWAYS_INLINE bool quad_has_offset(uint32_t type) {
    return type == RWKV_TYPE_Q4_0 || type == RWKV_TYPE_Q5_0;
}

QUAD_ALWAYS_INLINE uint32_t quad_load32(const uint8_t * p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* 16 bytes from each of four blocks, block_bytes apart: [A | B | C | D]. */
QUAD_ALWAYS_INLINE __m512i quad_gather16(const uint8_t * p, size_t block_bytes) {
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)p));
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + block_bytes)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + 2 * block_bytes)), 2);
    return _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + 3 * block_bytes)), 3);
}

/* One weight quad: unsigned bytes (Q8_0: |q|, with the signs in masks) and scales d, m per block. */
struct weight_quad {
    __m512i lo, hi;
    __mmask64 negative_lo, negative_hi;
    __m256 scales; /* d_A, m_A, d_B, m_B, ... (m = 0 for types without a minimum) */
};

QUAD_ALWAYS_INLINE struct weight_quad load_weight_quad(uint32_t type, const uint8_t * a) {
    const size_t bytes = quad_block_bytes(type);
    struct weight_quad w;
    /* The first dword of each block: d, and m for the affine types (other bytes masked off). */
    __m128i dm = _mm_cvtsi32_si128((int)quad_load32(a));
    dm = _mm_insert_epi32(dm, (int)quad_load32(a + bytes), 1);
    dm = _mm_insert_epi32(dm, (int)quad_load32(a + 2 * bytes), 2);
    dm = _mm_insert_epi32(dm, (int)quad_load32(a + 3 * bytes), 3);
    if (!quad_affine(type)) {
        dm = _mm_and_si128(dm, _mm_set1_epi32(0xffff));
    }
    w.scales = _mm256_cvtph_ps(dm);
    w.negative_lo = w.negative_hi = 0;
    if (type == RWKV_TYPE_Q8_0) {
        __m512i lo = quad_gather16(a + 2, bytes);
        __m512i hi = quad_gather16(a + 18, bytes);
        w.negative_lo = _mm512_movepi8_mask(lo);
        w.negative_hi = _mm512_movepi8_mask(hi);
        w.lo = _mm512_abs_epi8(lo);
        w.hi = _mm512_abs_epi8(hi);
        return w;
    }
    const bool five_bits = type == RWKV_TYPE_Q5_0 || type == RWKV_TYPE_Q5_1;
    const size_t qh = quad_affine(type) ? 4 : 2;
    const size_t qs = five_bits ? qh + 4 : qh;
    const __m512i low_nibble = _mm512_set1_epi8(0x0f);
    __m512i packed = quad_gather16(a + qs, bytes);
    w.lo = _mm512_and_si512(packed, low_nibble);
    w.hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_nibble);
    if (five_bits) {
        /* Bit j of a block's qh is its element j's fifth bit: bits 0-15 go with lo, 16-31 with hi.
           pext gathers the four blocks' halves (every AVX-512 CPU has a fast BMI2; dispatch checks). */
        const uint64_t ab = quad_load32(a + qh) | (uint64_t)quad_load32(a + bytes + qh) << 32;
        const uint64_t cd = quad_load32(a + 2 * bytes + qh) | (uint64_t)quad_load32(a + 3 * bytes + qh) << 32;
        const uint64_t low_halves = 0x0000ffff0000ffffull;
        const uint64_t lo_bits = _pext_u64(ab, low_halves) | _pext_u64(cd, low_halves) << 32;
        const uint64_t hi_bits = _pext_u64(ab, ~low_halves) | _pext_u64(cd, ~low_halves) << 32;
        const __m512i sixteen = _mm512_set1_epi8(16);
        w.lo = _mm512_mask_add_epi8(w.lo, (__mmask64)lo_bits, w.lo, sixteen);
        w.hi = _mm512_mask_add_epi8(w.hi, (__mmask64)hi_bits, w.hi, sixteen);
    }
    return w;
}

/* Exact dots: int32 lane i = sum over bytes 4i..4i+3 of lo and hi. */
QUAD_ALWAYS_INLINE __m512i quad_dot(uint32_t type, const struct weight_quad * w, __m512i x_lo, __m512i x_hi) {
    if (type == RWKV_TYPE_Q8_0) {
        /* |w| * (x with w's sign); |x| <= 127, so negating is exact. */
        x_lo = _mm512_mask_sub_epi8(x_lo, w->negative_lo, _mm512_setzero_si512(), x_lo);
        x_hi = _mm512_mask_sub_epi8(x_hi, w->negative_hi, _mm512_setzero_si512(), x_hi);
    }
#if QUAD_DOT_VNNI
    return _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), w->lo, x_lo), w->hi, x_hi);
#else
    const __m512i ones = _mm512_set1_epi16(1);
    __m512i products_lo = _mm512_maddubs_epi16(w->lo, x_lo);
    __m512i products_hi = _mm512_maddubs_epi16(w->hi, x_hi);
    if (type == RWKV_TYPE_Q8_0) {
        /* Pairs reach 2 * 128 * 127: lo and hi cannot be added in int16. */
        return _mm512_add_epi32(_mm512_madd_epi16(products_lo, ones), _mm512_madd_epi16(products_hi, ones));
    }
    /* q <= 31: each int16 sum stays under 4 * 31 * 127 < 32768. */
    return _mm512_madd_epi16(_mm512_add_epi16(products_lo, products_hi), ones);
#endif
}

QUAD_ALWAYS_INLINE float quad_sum512(__m512 v) {
    __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s4, _mm_movehdup_ps(s4)));
}

/* Lanes 1, 3, 5, 7: the m_w * s_x sums. */
QUAD_ALWAYS_INLINE float quad_sum_odd(__m256 v) {
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    return (lanes[1] + lanes[3]) + (lanes[5] + lanes[7]);
}

/* One weight row against n_cols activation columns (n_cols <= QUAD_COLS). */
QUAD_ALWAYS_INLINE void quad_tile(uint32_t type, const struct rwkv_matrix * m, size_t row, const uint8_t * act,
                                  size_t act_stride, int n_cols, float * y, size_t y_stride) {
    const size_t bytes = quad_block_bytes(type);
    const size_t n_blocks = m->n_in / RWKV_QK;
    const uint8_t * weights = m->data + row * m->row_bytes;
    const __m512i spread = _mm512_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 6, 6);
    __m512 acc[QUAD_COLS];
    __m256 acc_min[QUAD_COLS];
    for (int c = 0; c < n_cols; c++) {
        acc[c] = _mm512_setzero_ps();
        acc_min[c] = _mm256_setzero_ps();
    }
    /* A last partial quad is read from a copy padded with zero blocks (zero scales: no contribution). */
    uint8_t padded[4 * 34];
    for (size_t q = 0; 4 * q < n_blocks; q++) {
        const uint8_t * quad = weights + 4 * q * bytes;
        if (4 * q + 4 > n_blocks) {
            memset(padded, 0, sizeof padded);
            memcpy(padded, quad, (n_blocks - 4 * q) * bytes);
            quad = padded;
        }
        if (n_cols == QUAD_COLS) {
            /* Sequence mode spends long enough per row that the hardware prefetchers fall behind
               when rows come from memory: ask for the row four ahead into L2 (8 columns of
               2048 x 16384 Q8_0: 44.5 -> 61.1 GMAC/s; Q5_1 1024 x 65536: 56.3 -> 62.3). */
            const char * ahead = (const char *)(weights + 4 * q * bytes) + PREFETCH_ROWS_AHEAD * m->row_bytes;
            _mm_prefetch(ahead, _MM_HINT_T1);
            _mm_prefetch(ahead + 64, _MM_HINT_T1);
            if (4 * bytes > 128) {
                _mm_prefetch(ahead + 128, _MM_HINT_T1);
            }
        }
        struct weight_quad w = load_weight_quad(type, quad);
        for (int c = 0; c < n_cols; c++) {
            const struct rwkv_act_quad * x = (const struct rwkv_act_quad *)(act + c * act_stride) + q;
            __m512i dot = quad_dot(type, &w, _mm512_loadu_si512(x->lo), _mm512_loadu_si512(x->hi));
            if (quad_has_offset(type)) {
                dot = _mm512_sub_epi32(dot, _mm512_loadu_si512(x->offset_sums));
            }
            __m256 products = _mm256_mul_ps(w.scales, _mm256_loadu_ps(x->scales));
            __m512 scales = _mm512_permutexvar_ps(spread, _mm512_castps256_ps512(products));
            acc[c] = _mm512_fmadd_ps(scales, _mm512_cvtepi32_ps(dot), acc[c]);
            if (quad_affine(type)) {
                acc_min[c] = _mm256_add_ps(acc_min[c], products);
            }
        }
    }
    for (int c = 0; c < n_cols; c++) {
        float sum = quad_sum512(acc[c]);
        if (quad_affine(type)) {
            sum += quad_sum_odd(acc_min[c]);
        }
        y[c * y_stride + row] = sum;
    }
}

#define QUAD_TILES(name, type)                                                                                  \
    static void name##_many(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride, \
                            float * y, size_t y_stride) {                                                      \
        quad_tile(type, w, row, act, act_stride, QUAD_COLS, y, y_stride);                                      \
    }                                                                                                          \
    static void name##_one(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,  \
                           float * y, size_t y_stride) {                                                       \
        quad_tile(type, w, row, act, act_stride, 1, y, y_stride);                                              \
    }                                                                                                          \
    static void name##_rows(const struct rwkv_matrix * w, size_t row_begin, size_t row_end, const uint8_t * act, \
                            float * y) {                                                                       \
        for (size_t r = row_begin; r < row_end; r++) {                                                         \
            quad_tile(type, w, r, act, 0, 1, y, 0);                                                            \
        }                                                                                                      \
    }                                                                                                          \
    static const struct quad_tiles name##_quad_tiles = { name##_many, name##_one, name##_rows };

QUAD_TILES(q4_0, RWKV_TYPE_Q4_0)
QUAD_TILES(q4_1, RWKV_TYPE_Q4_1)
QUAD_TILES(q5_0, RWKV_TYPE_Q5_0)
QUAD_TILES(q5_1, RWKV_TYPE_Q5_1)
QUAD_TILES(q8_0, RWKV_TYPE_Q8_0)

static const struct quad_tiles * quad_tiles_for(uint32_t type) {
    switch (type) {
    case RWKV_TYPE_Q4_0: return &q4_0_quad_tiles;
    case RWKV_TYPE_Q4_1: return &q4_1_quad_tiles;
    case RWKV_TYPE_Q5_0: return &q5_0_quad_tiles;
    case RWKV_TYPE_Q5_1: return &q5_1_quad_tiles;
    case RWKV_TYPE_Q8_0: return &q8_0_quad_tiles;
    default: return NULL;
    }
}
