/*
 * AVX-512 products of quantized weights with rwkv_act_group activations: sixteen blocks (512
 * weights) per step, as four quads of four blocks in 512-bit registers. Included by
 * kernels_avx512.c (integer dots with maddubs) and kernels_avx512_vnni.c (with VNNI's dpbusd),
 * which define QUAD_DOT_VNNI as 0 or 1 first. The integer sums are exact either way and every
 * float operation is the same, so both give the same bits; so do the one-column (decoding) and
 * many-column (sequence) tiles.
 *
 * Per quad and column, int32 lane i holds the exact dot of bytes 4i..4i+3 of the lo and hi halves
 * (lanes 4L..4L+3: block L). The four quads' lanes are then added up per block, exactly, into one
 * vector whose lane 4L + j is block 4j + L (kernels.h's group order), so one multiply of the
 * weight and activation scales, one conversion and one multiply-add per sixteen blocks apply
 * d_w * d_x to each block's dot; Q4_1/Q5_1 add m_w * s_x per block with a second multiply-add.
 * Per-block float work per quad was the larger part of a product's instructions.
 */
#ifndef QUAD_DOT_VNNI
#error "define QUAD_DOT_VNNI (0 or 1) before including quads_avx512.h"
#endif

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "data_types.h"
#include "kernels.h"
#include "reduce_avx512.h"

#define QUAD_ALWAYS_INLINE static inline __attribute__((always_inline))

/* Columns per sequence-mode tile: the weights are decoded once for all of them. */
#define QUAD_COLS 8
/* Sequence mode prefetches the weights of the row this many rows ahead. */
#define PREFETCH_ROWS_AHEAD 4

typedef void (*quad_tile_fn)(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,
                             float * y, size_t y_stride);
typedef void (*quad_slice_fn)(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,
                              size_t g_begin, size_t g_end, float * partial, float * y, size_t y_stride);
typedef void (*quad_rows_fn)(const struct rwkv_matrix * w, size_t row_begin, size_t row_end, const uint8_t * act,
                             float * y);
typedef void (*quad_batch_fn)(const struct rwkv_matrix * w, const size_t * rows, int n_rows, const uint8_t * act,
                              size_t act_stride, float * y, size_t y_stride);

/* A type's tiles: QUAD_COLS columns, or one; QUAD_COLS columns over a slice of a row's groups;
   decoding's loop over rows (one call per thread's share of rows, not per row: short rows made
   the call and its set-up a tenth of the work); and a batch's few rows at once, group by group. */
struct quad_tiles {
    quad_tile_fn many_cols, one_col;
    quad_slice_fn many_cols_slice;
    quad_rows_fn decode_rows;
    quad_batch_fn batch_rows;
};

/*
 * Q8_0's signed weights: with VNNI they are read as unsigned bytes q + 128 (one xor) and the
 * activations' 128 * sum per block is subtracted once per block sum; without VNNI (maddubs sums
 * byte pairs in int16, where 255 * 127 * 2 overflows) as |q| with the sign moved to the activations.
 */
#define Q8_0_AS_UNSIGNED QUAD_DOT_VNNI

QUAD_ALWAYS_INLINE bool quad_has_offset(uint32_t type) {
    return type == RWKV_TYPE_Q4_0 || type == RWKV_TYPE_Q5_0 || (Q8_0_AS_UNSIGNED && type == RWKV_TYPE_Q8_0);
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

/* The same from the first n (1-4) blocks, zeros for the others, which are never read: they lie
   past the row's end. */
QUAD_ALWAYS_INLINE __m512i quad_gather16_n(const uint8_t * p, size_t block_bytes, int n) {
    if (n >= 4) {
        return quad_gather16(p, block_bytes);
    }
    __m512i v = _mm512_zextsi128_si512(_mm_loadu_si128((const __m128i *)p));
    if (n > 1) {
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + block_bytes)), 1);
    }
    if (n > 2) {
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + 2 * block_bytes)), 2);
    }
    return v;
}

/* The dword at a + k * block_bytes if the quad has block k (k < n), else 0. */
QUAD_ALWAYS_INLINE uint32_t quad_load32_of(const uint8_t * a, size_t block_bytes, int k, int n) {
    return k < n ? quad_load32(a + k * block_bytes) : 0;
}

/* One weight quad as unsigned bytes: the stored q (Q8_0: q + 128 with VNNI; without it |q|, with
   the signs in masks). */
struct weight_quad {
    __m512i lo, hi;
    __mmask64 negative_lo, negative_hi;
};

/* A whole group's fifth bits as byte masks, in one vector: bit i of qword j is byte i of quad j's
   lo, of qword 4 + j byte i of its hi. */
struct fifth_bits {
    __m512i masks;
};

/*
 * Mask k of a group's fifth bits, through a general register. Stored as a vector and read back
 * with kmov from memory, the reads waited for the store to complete (a load of 8 bytes from
 * inside a 64-byte store is not forwarded): one thread, Q5_1, old and new alternating, 8 columns
 * from L2: 768 x 768 +3%, 1024 x 1024 +8%, 2048 x 2048 +9%; 64 columns of 2048 x 2048 +10%.
 */
QUAD_ALWAYS_INLINE __mmask64 fifth_mask(const struct fifth_bits * fifth, int k) {
    /* A switch, so that each extract gets the immediate it needs without optimisation too. */
    __m128i pair;
    switch (k / 2) {
    case 0: pair = _mm512_castsi512_si128(fifth->masks); break;
    case 1: pair = _mm512_extracti64x2_epi64(fifth->masks, 1); break;
    case 2: pair = _mm512_extracti64x2_epi64(fifth->masks, 2); break;
    default: pair = _mm512_extracti64x2_epi64(fifth->masks, 3); break;
    }
    const uint64_t bits = k % 2 == 0 ? (uint64_t)_mm_cvtsi128_si64(pair) : (uint64_t)_mm_extract_epi64(pair, 1);
    return _cvtu64_mask64(bits);
}

/* Quad `quad` of a group at a, of which the first n blocks (1-4) exist: the others read as zero
   bytes. fifth is NULL or a whole Q5_1 group's fifth bits (load_q5_1_group_head), packed_in NULL
   or the quad's four blocks of packed nibbles (q5_1_group_quad). */
QUAD_ALWAYS_INLINE struct weight_quad load_weight_quad_of(uint32_t type, const uint8_t * a, int n,
                                                          const struct fifth_bits * fifth, int quad,
                                                          const __m512i * packed_in) {
    const size_t bytes = rwkv_quant_block_bytes(type);
    struct weight_quad w;
    w.negative_lo = w.negative_hi = 0;
    if (type == RWKV_TYPE_Q8_0 && Q8_0_AS_UNSIGNED) {
        const __m512i bias = _mm512_set1_epi8((char)0x80);
        w.lo = _mm512_xor_si512(quad_gather16_n(a + 2, bytes, n), bias);
        w.hi = _mm512_xor_si512(quad_gather16_n(a + 18, bytes, n), bias);
        return w;
    }
    if (type == RWKV_TYPE_Q8_0) {
        __m512i lo = quad_gather16_n(a + 2, bytes, n);
        __m512i hi = quad_gather16_n(a + 18, bytes, n);
        w.negative_lo = _mm512_movepi8_mask(lo);
        w.negative_hi = _mm512_movepi8_mask(hi);
        w.lo = _mm512_abs_epi8(lo);
        w.hi = _mm512_abs_epi8(hi);
        return w;
    }
    const bool five_bits = type == RWKV_TYPE_Q5_0 || type == RWKV_TYPE_Q5_1;
    const size_t qh = rwkv_quant_is_affine(type) ? 4 : 2;
    const size_t qs = five_bits ? qh + 4 : qh;
    const __m512i low_nibble = _mm512_set1_epi8(0x0f);
    const __m512i packed = packed_in != NULL ? *packed_in : quad_gather16_n(a + qs, bytes, n);
    w.lo = _mm512_and_si512(packed, low_nibble);
    w.hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_nibble);
    if (five_bits && fifth != NULL) {
        /* The group's fifth bits, already arranged as masks (load_q5_1_group_head). */
        const __m512i sixteen = _mm512_set1_epi8(16);
        w.lo = _mm512_mask_add_epi8(w.lo, fifth_mask(fifth, quad), w.lo, sixteen);
        w.hi = _mm512_mask_add_epi8(w.hi, fifth_mask(fifth, 4 + quad), w.hi, sixteen);
    } else if (five_bits) {
        /* Bit j of a block's qh is its element j's fifth bit: bits 0-15 go with lo, 16-31 with hi.
           pext gathers the four blocks' halves (every AVX-512 CPU has a fast BMI2; dispatch checks). */
        const uint64_t ab = quad_load32_of(a + qh, bytes, 0, n) | (uint64_t)quad_load32_of(a + qh, bytes, 1, n) << 32;
        const uint64_t cd = quad_load32_of(a + qh, bytes, 2, n) | (uint64_t)quad_load32_of(a + qh, bytes, 3, n) << 32;
        const uint64_t low_halves = 0x0000ffff0000ffffull;
        const uint64_t lo_bits = _pext_u64(ab, low_halves) | _pext_u64(cd, low_halves) << 32;
        const uint64_t hi_bits = _pext_u64(ab, ~low_halves) | _pext_u64(cd, ~low_halves) << 32;
        const __m512i sixteen = _mm512_set1_epi8(16);
        w.lo = _mm512_mask_add_epi8(w.lo, (__mmask64)lo_bits, w.lo, sixteen);
        w.hi = _mm512_mask_add_epi8(w.hi, (__mmask64)hi_bits, w.hi, sixteen);
    }
    return w;
}

QUAD_ALWAYS_INLINE struct weight_quad load_weight_quad(uint32_t type, const uint8_t * a, int n) {
    return load_weight_quad_of(type, a, n, NULL, 0, NULL);
}

/* A group's sixteen weight scales d (and m, for Q4_1/Q5_1) in the group lane order. */
struct weight_scales {
    __m512 d, m;
};

QUAD_ALWAYS_INLINE struct weight_scales scales_from_halves(uint32_t type, __m512i halves) {
    struct weight_scales w;
    w.d = _mm512_cvtph_ps(_mm512_castsi512_si256(halves));
    w.m = rwkv_quant_is_affine(type) ? _mm512_cvtph_ps(_mm512_extracti64x4_epi64(halves, 1)) : _mm512_setzero_ps();
    return w;
}

/* The scales of a group whose first n_blocks (1-16) blocks exist: one dword per block. (A word
   permute of the group read in 64-byte pieces was no faster.) */
QUAD_ALWAYS_INLINE struct weight_scales load_weight_scales(uint32_t type, const uint8_t * group, int n_blocks) {
    const size_t bytes = rwkv_quant_block_bytes(type);
    /* The first dword of each block (binary16 d, then m for the affine types), in block order,
       zero for the blocks past the row's end... */
    __m128i quads[4];
    for (int j = 0; j < 4; j++) {
        const int n = n_blocks - 4 * j;
        if (n <= 0) {
            quads[j] = _mm_setzero_si128();
            continue;
        }
        const uint8_t * a = group + 4 * j * bytes;
        __m128i v = _mm_cvtsi32_si128((int)quad_load32(a));
        v = _mm_insert_epi32(v, (int)quad_load32_of(a, bytes, 1, n), 1);
        v = _mm_insert_epi32(v, (int)quad_load32_of(a, bytes, 2, n), 2);
        quads[j] = _mm_insert_epi32(v, (int)quad_load32_of(a, bytes, 3, n), 3);
    }
    __m512i dm = _mm512_castsi128_si512(quads[0]);
    dm = _mm512_inserti32x4(dm, quads[1], 1);
    dm = _mm512_inserti32x4(dm, quads[2], 2);
    dm = _mm512_inserti32x4(dm, quads[3], 3);
    /* ...then the d halves (even words) of blocks 4j + L to lanes 4L + j, and the m halves (odd
       words) the same 16 lanes further. */
    static const uint16_t order[32] = { 0, 8, 16, 24, 2, 10, 18, 26, 4, 12, 20, 28, 6, 14, 22, 30,
                                        1, 9, 17, 25, 3, 11, 19, 27, 5, 13, 21, 29, 7, 15, 23, 31 };
    return scales_from_halves(type, _mm512_permutexvar_epi16(_mm512_loadu_si512(order), dm));
}

/* A whole Q5_1 group: 16 blocks of 24 bytes, six 64-byte loads. */
struct q5_1_group {
    __m512i bytes[6];
};

QUAD_ALWAYS_INLINE struct q5_1_group load_q5_1_group(const uint8_t * group) {
    struct q5_1_group g;
    for (int i = 0; i < 6; i++) {
        g.bytes[i] = _mm512_loadu_si512(group + 64 * i);
    }
    return g;
}

/*
 * A whole Q5_1 group's scales and fifth bits from six 64-byte loads: block b's d, m and qh are
 * the qword at byte 24b, so two permutes per eight blocks gather them, one word permute puts the
 * scales in the group lane order and another lines the qh halves up as the quads' byte masks.
 * The scalar way (four loads, pext and kmov per quad) took a fifth of a sequence tile's time;
 * this way (the masks then stored, and read back with kmov), one thread, Q5_1 512 x 2048 from
 * L2, 8 columns: 117.7 -> 123.9 GMAC/s, 64 columns: 116.2 -> 121.5 (best of five alternating);
 * v7 0.4B Q5_1 batch-8 126.4 / 133.3 and 127.7 / 133.2 tok/s. Decoding keeps the scalar way:
 * from memory it measured no faster in the engine.
 */
QUAD_ALWAYS_INLINE struct weight_scales load_q5_1_group_head(const struct q5_1_group * group,
                                                             struct fifth_bits * fifth) {
    static const uint64_t first_six[8] = { 0, 3, 6, 9, 12, 15, 0, 0 };
    static const uint64_t last_two[8] = { 0, 0, 0, 0, 0, 0, 2, 5 };
    const __m512i first_six_index = _mm512_loadu_si512(first_six);
    const __m512i last_two_index = _mm512_loadu_si512(last_two);
    /* Blocks 0-5 from bytes 0-127, 6-7 from 128-191; 8-13 from 192-319, 14-15 from 320-383. */
    __m512i blocks0 = _mm512_permutex2var_epi64(group->bytes[0], first_six_index, group->bytes[1]);
    blocks0 = _mm512_mask_permutexvar_epi64(blocks0, 0xc0, last_two_index, group->bytes[2]);
    __m512i blocks8 = _mm512_permutex2var_epi64(group->bytes[3], first_six_index, group->bytes[4]);
    blocks8 = _mm512_mask_permutexvar_epi64(blocks8, 0xc0, last_two_index, group->bytes[5]);
    /* Word 4b of [blocks0 | blocks8] is block b's d, 4b + 1 its m, 4b + 2 and 4b + 3 its qh halves. */
    static const uint16_t scales_order[32] = { 0,  16, 32, 48, 4,  20, 36, 52, 8,  24, 40, 56, 12, 28, 44, 60,
                                               1,  17, 33, 49, 5,  21, 37, 53, 9,  25, 41, 57, 13, 29, 45, 61 };
    static const uint16_t fifth_order[32] = { 2,  6,  10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62,
                                              3,  7,  11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63 };
    fifth->masks = _mm512_permutex2var_epi16(blocks0, _mm512_loadu_si512(fifth_order), blocks8);
    return scales_from_halves(RWKV_TYPE_Q5_1,
                              _mm512_permutex2var_epi16(blocks0, _mm512_loadu_si512(scales_order), blocks8));
}

/*
 * Quad j's packed nibbles (bytes 8-23 of each of its four blocks, quad_gather16's order) from the
 * group's loaded bytes: quad j spans bytes 96j to 96j + 95, and every block's nibbles start on a
 * qword, so one qword permute of two loaded vectors replaces four loads and three inserts
 * (even quads: bytes[3j/2], bytes[3j/2 + 1] from qword 1; odd quads: from qword 5).
 */
QUAD_ALWAYS_INLINE __m512i q5_1_group_quad(const struct q5_1_group * group, int quad) {
    static const uint64_t even[8] = { 1, 2, 4, 5, 7, 8, 10, 11 };
    static const uint64_t odd[8] = { 5, 6, 8, 9, 11, 12, 14, 15 };
    const int first = quad / 2 * 3 + quad % 2;
    return _mm512_permutex2var_epi64(group->bytes[first], _mm512_loadu_si512(quad % 2 == 0 ? even : odd),
                                     group->bytes[first + 1]);
}

/* A group's scales and its n_quads weight quads, of n_blocks blocks in all (4 * n_quads, or fewer
   where the row ends in a partial quad). */
QUAD_ALWAYS_INLINE struct weight_scales load_group(uint32_t type, const uint8_t * group, int n_quads, int n_blocks,
                                                   struct weight_quad w[4]) {
    const size_t bytes = rwkv_quant_block_bytes(type);
    if (type == RWKV_TYPE_Q5_1 && n_blocks == RWKV_ACT_GROUP_BLOCKS) {
        struct fifth_bits fifth;
        const struct q5_1_group loaded = load_q5_1_group(group);
        const struct weight_scales scales = load_q5_1_group_head(&loaded, &fifth);
        for (int j = 0; j < 4; j++) {
            const __m512i packed = q5_1_group_quad(&loaded, j);
            w[j] = load_weight_quad_of(type, group + 4 * j * bytes, 4, &fifth, j, &packed);
        }
        return scales;
    }
    /* Scales first: their loads touch the group's lines in ascending order, which the hardware
       prefetchers need (scales after the quads cost Q8_0 decoding from memory 30%). */
    const struct weight_scales scales = load_weight_scales(type, group, n_blocks);
    for (int j = 0; j < n_quads; j++) {
        w[j] = load_weight_quad(type, group + 4 * j * bytes, n_blocks - 4 * j);
    }
    return scales;
}

/* Exact dots: int32 lane i = sum over bytes 4i..4i+3 of lo and hi. */
QUAD_ALWAYS_INLINE __m512i quad_dot(uint32_t type, const struct weight_quad * w, const struct rwkv_act_quad * x) {
    __m512i x_lo = _mm512_loadu_si512(x->lo);
    __m512i x_hi = _mm512_loadu_si512(x->hi);
    if (type == RWKV_TYPE_Q8_0 && !Q8_0_AS_UNSIGNED) {
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

/* Four quads' dots summed per block, exactly: lane 4L + j = block L of quad j. */
QUAD_ALWAYS_INLINE __m512i block_sums(__m512i d0, __m512i d1, __m512i d2, __m512i d3) {
    /* In each 128-bit lane L (block L): partial sums 0 + 2 and 1 + 3 of d0 and d1, interleaved... */
    const __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(d0, d1), _mm512_unpackhi_epi32(d0, d1));
    const __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(d2, d3), _mm512_unpackhi_epi32(d2, d3));
    /* ...and of d2 and d3; adding those halves leaves [d0, d1, d2, d3]'s whole block L. */
    return _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
}

/* acc + d_w * d_x * (sums - offsets) (+ m_w * s_x for Q4_1/Q5_1): a group's float work per row and
   column, the same in every tile so that every tile gives the same bits. */
QUAD_ALWAYS_INLINE __m512 scale_block_sums(uint32_t type, __m512i sums, const struct weight_scales * scales,
                                           const struct rwkv_act_group * x, __m512 acc) {
    if (quad_has_offset(type)) {
        sums = _mm512_sub_epi32(sums, _mm512_loadu_si512(x->offsets));
    }
    const __m512 products = _mm512_mul_ps(scales->d, _mm512_loadu_ps(x->d));
    acc = _mm512_fmadd_ps(products, _mm512_cvtepi32_ps(sums), acc);
    if (rwkv_quant_is_affine(type)) {
        acc = _mm512_fmadd_ps(scales->m, _mm512_loadu_ps(x->s), acc);
    }
    return acc;
}

/* One group of weights against n_cols columns: n_blocks blocks in n_quads (1-4) quads at `group`,
   zero after them. */
QUAD_ALWAYS_INLINE void accumulate_group(uint32_t type, const uint8_t * group, int n_quads, int n_blocks,
                                         const uint8_t * act, size_t act_stride, size_t g, int n_cols,
                                         __m512 acc[QUAD_COLS]) {
    struct weight_quad w[4];
    const struct weight_scales scales = load_group(type, group, n_quads, n_blocks, w);
    for (int c = 0; c < n_cols; c++) {
        const struct rwkv_act_group * x = (const struct rwkv_act_group *)(act + c * act_stride) + g;
        __m512i dots[4];
        for (int j = 0; j < 4; j++) {
            dots[j] = j < n_quads ? quad_dot(type, &w[j], &x->quads[j]) : _mm512_setzero_si512();
        }
        acc[c] = scale_block_sums(type, block_sums(dots[0], dots[1], dots[2], dots[3]), &scales, x, acc[c]);
    }
}

/*
 * Sequence tiles: a whole group's four weight quads transposed once by dword (a 4 x 4 transpose in
 * each 128-bit lane), so dword lane 4L + j of t[k] is dword k of block 4j + L, as in the
 * activations' interleaved[k]. Every column's dot products then land whole blocks in lanes and add
 * up in one accumulator: block_sums' six shuffles and three adds per column are gone, for sixteen
 * shuffles per group (lo and hi). Exact integers, so the same sums and bits as the quads path.
 * One matrix, 8 columns, one thread: Q5_1 2048 x 2048 96 -> 105 GMAC/s, 3072 x 768 96 -> 103.
 */
QUAD_ALWAYS_INLINE void transpose_quads(__m512i q0, __m512i q1, __m512i q2, __m512i q3, __m512i t[4]) {
    const __m512i t0 = _mm512_unpacklo_epi32(q0, q1);
    const __m512i t1 = _mm512_unpackhi_epi32(q0, q1);
    const __m512i t2 = _mm512_unpacklo_epi32(q2, q3);
    const __m512i t3 = _mm512_unpackhi_epi32(q2, q3);
    t[0] = _mm512_unpacklo_epi64(t0, t2);
    t[1] = _mm512_unpackhi_epi64(t0, t2);
    t[2] = _mm512_unpacklo_epi64(t1, t3);
    t[3] = _mm512_unpackhi_epi64(t1, t3);
}

/* Whether a type's sequence tiles use the interleaved activations: all but Q8_0 read as |q| with
   sign masks (without VNNI), whose masks would need the same transpose. */
QUAD_ALWAYS_INLINE bool quad_interleaved(uint32_t type) {
    return type != RWKV_TYPE_Q8_0 || Q8_0_AS_UNSIGNED;
}

/* Block sums of one column against transposed weights lo[k], hi[k]: lane 4L + j = block 4j + L. */
QUAD_ALWAYS_INLINE __m512i interleaved_sums(const __m512i lo[4], const __m512i hi[4], const struct rwkv_act_group * x) {
#if QUAD_DOT_VNNI
    /* Two chains, so consecutive dot products do not wait for each other. */
    __m512i even = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[0], _mm512_loadu_si512(x->interleaved[0].lo));
    __m512i odd = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[1], _mm512_loadu_si512(x->interleaved[1].lo));
    even = _mm512_dpbusd_epi32(even, hi[0], _mm512_loadu_si512(x->interleaved[0].hi));
    odd = _mm512_dpbusd_epi32(odd, hi[1], _mm512_loadu_si512(x->interleaved[1].hi));
    even = _mm512_dpbusd_epi32(even, lo[2], _mm512_loadu_si512(x->interleaved[2].lo));
    odd = _mm512_dpbusd_epi32(odd, lo[3], _mm512_loadu_si512(x->interleaved[3].lo));
    even = _mm512_dpbusd_epi32(even, hi[2], _mm512_loadu_si512(x->interleaved[2].hi));
    odd = _mm512_dpbusd_epi32(odd, hi[3], _mm512_loadu_si512(x->interleaved[3].hi));
    return _mm512_add_epi32(even, odd);
#else
    /* Q4/Q5 only: q <= 31, so lo and hi add in int16 as in quad_dot. */
    const __m512i ones = _mm512_set1_epi16(1);
    __m512i sums[4];
    for (int k = 0; k < 4; k++) {
        const __m512i products_lo = _mm512_maddubs_epi16(lo[k], _mm512_loadu_si512(x->interleaved[k].lo));
        const __m512i products_hi = _mm512_maddubs_epi16(hi[k], _mm512_loadu_si512(x->interleaved[k].hi));
        sums[k] = _mm512_madd_epi16(_mm512_add_epi16(products_lo, products_hi), ones);
    }
    return _mm512_add_epi32(_mm512_add_epi32(sums[0], sums[1]), _mm512_add_epi32(sums[2], sums[3]));
#endif
}

/* accumulate_group for a whole group and QUAD_COLS columns through the interleaved activations. */
QUAD_ALWAYS_INLINE void accumulate_group_interleaved(uint32_t type, const uint8_t * group, const uint8_t * act,
                                                     size_t act_stride, size_t g, __m512 acc[QUAD_COLS]) {
    struct weight_quad w[4];
    const struct weight_scales scales = load_group(type, group, 4, RWKV_ACT_GROUP_BLOCKS, w);
    __m512i lo[4], hi[4];
    transpose_quads(w[0].lo, w[1].lo, w[2].lo, w[3].lo, lo);
    transpose_quads(w[0].hi, w[1].hi, w[2].hi, w[3].hi, hi);
    for (int c = 0; c < QUAD_COLS; c++) {
        const struct rwkv_act_group * x = (const struct rwkv_act_group *)(act + c * act_stride) + g;
        acc[c] = scale_block_sums(type, interleaved_sums(lo, hi, x), &scales, x, acc[c]);
    }
}

/* One group of a tile: interleaved for whole groups of full sequence tiles where the type allows,
   else by quads (a row's partial last group would pay for four quads: rows of 768 ran 30% slower). */
QUAD_ALWAYS_INLINE void tile_group(uint32_t type, const uint8_t * group, int n_quads, int n_blocks,
                                   const uint8_t * act, size_t act_stride, size_t g, int n_cols,
                                   __m512 acc[QUAD_COLS]) {
    if (n_cols == QUAD_COLS && n_blocks == RWKV_ACT_GROUP_BLOCKS && quad_interleaved(type)) {
        accumulate_group_interleaved(type, group, act, act_stride, g, acc);
    } else {
        accumulate_group(type, group, n_quads, n_blocks, act, act_stride, g, n_cols, acc);
    }
}

/* Groups of sixteen blocks in a row, the last one possibly partial. */
QUAD_ALWAYS_INLINE size_t quad_row_groups(const struct rwkv_matrix * m) {
    return (m->n_in / RWKV_QK + RWKV_ACT_GROUP_BLOCKS - 1) / RWKV_ACT_GROUP_BLOCKS;
}

QUAD_ALWAYS_INLINE void prefetch_l2(const uint8_t * bytes, size_t n) {
    for (size_t line = 0; line < n; line += 64) {
        _mm_prefetch((const char *)bytes + line, _MM_HINT_T1);
    }
}

/* Groups [g_begin, g_end) of one weight row against n_cols activation columns (n_cols <= QUAD_COLS),
   added to acc in group order. prefetch_groups asks for the same groups of the row four ahead. */
QUAD_ALWAYS_INLINE void quad_tile_groups(uint32_t type, const struct rwkv_matrix * m, size_t row, const uint8_t * act,
                                         size_t act_stride, int n_cols, size_t g_begin, size_t g_end,
                                         bool prefetch_groups, __m512 acc[QUAD_COLS]) {
    const size_t bytes = rwkv_quant_block_bytes(type);
    const size_t n_blocks = m->n_in / RWKV_QK;
    const size_t group_bytes = RWKV_ACT_GROUP_BLOCKS * bytes;
    const uint8_t * weights = m->data + row * m->row_bytes;
    for (size_t g = g_begin; g < g_end; g++) {
        const uint8_t * group = weights + g * group_bytes;
        if (prefetch_groups) {
            prefetch_l2(group + PREFETCH_ROWS_AHEAD * m->row_bytes, group_bytes);
        }
        const size_t left = n_blocks - g * RWKV_ACT_GROUP_BLOCKS;
        if (left >= RWKV_ACT_GROUP_BLOCKS) {
            tile_group(type, group, 4, RWKV_ACT_GROUP_BLOCKS, act, act_stride, g, n_cols, acc);
        } else if (left % 4 == 0) {
            /* The row's last group, with fewer quads (a constant each, so they stay in registers). */
            if (left == 4) {
                tile_group(type, group, 1, 4, act, act_stride, g, n_cols, acc);
            } else if (left == 8) {
                tile_group(type, group, 2, 8, act, act_stride, g, n_cols, acc);
            } else {
                tile_group(type, group, 3, 12, act, act_stride, g, n_cols, acc);
            }
        } else {
            /* ...ending in a partial quad (rows of n_in not a multiple of 128): the blocks past the
               row's end read as zeros (zero scales: no contribution). A zero-padded copy of the
               group cost more than the product itself on rows of 32-96 inputs (v7's LoRAs). */
            tile_group(type, group, (int)((left + 3) / 4), (int)left, act, act_stride, g, n_cols, acc);
        }
    }
}

/* One weight row against n_cols activation columns (n_cols <= QUAD_COLS). */
QUAD_ALWAYS_INLINE void quad_tile(uint32_t type, const struct rwkv_matrix * m, size_t row, const uint8_t * act,
                                  size_t act_stride, int n_cols, float * y, size_t y_stride) {
    /* Zeros from a register the compiler cannot see into: it turned a loop of constant zeros into
       a 512-byte rep stos on the stack per row, a slow start for rows of two groups (one thread,
       alternating: v7 0.4B Q5_1 prefill +4.0%, batch of 8 +1.3%; 512 x 1024 from L2, 8 columns,
       106-109 -> 116 GMAC/s). */
    __m512 acc[QUAD_COLS];
    __m512 zero = _mm512_setzero_ps();
    __asm__("" : "+v"(zero));
    for (int c = 0; c < n_cols; c++) {
        acc[c] = zero;
    }
    /* Sequence mode spends long enough per row that the hardware prefetchers fall behind when
       rows come from memory: ask for the row four ahead into L2 (8 columns of 2048 x 16384 Q8_0:
       44.5 -> 61.1 GMAC/s; Q5_1 1024 x 65536: 56.3 -> 62.3). */
    quad_tile_groups(type, m, row, act, act_stride, n_cols, 0, quad_row_groups(m), n_cols == QUAD_COLS, acc);
    for (int c = 0; c < n_cols; c++) {
        y[c * y_stride + row] = hsum512(acc[c]);
    }
}

/*
 * QUAD_COLS columns of groups [g_begin, g_end) of one row, continuing the sums kept in partial
 * (QUAD_COLS x 16 floats) between calls: the first slice starts them, the last writes y. Each lane
 * adds the same terms in the same order as quad_tile's, so the bits are the same. The first slice
 * prefetches the whole row four ahead, which the later slices of the same rows then find in L2.
 */
QUAD_ALWAYS_INLINE void quad_tile_slice(uint32_t type, const struct rwkv_matrix * m, size_t row, const uint8_t * act,
                                        size_t act_stride, size_t g_begin, size_t g_end, float * partial, float * y,
                                        size_t y_stride) {
    __m512 acc[QUAD_COLS];
    for (int c = 0; c < QUAD_COLS; c++) {
        acc[c] = g_begin == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(partial + 16 * c);
    }
    if (g_begin == 0) {
        /* A share of the row four ahead before each group: asked for all at once, the requests
           waited behind each other (batch of 8, one thread, alternating: v7 0.4B Q5_1 +1.9%,
           v7 1.5B Q5_1 +2.4%; prefill -0.9% to +1.8%). */
        const uint8_t * ahead = m->data + (row + PREFETCH_ROWS_AHEAD) * m->row_bytes;
        const size_t lines = (m->row_bytes + 63) / 64, n_groups = g_end - g_begin;
        for (size_t g = g_begin; g < g_end; g++) {
            const size_t share_end = lines * (g - g_begin + 1) / n_groups;
            for (size_t line = lines * (g - g_begin) / n_groups; line < share_end; line++) {
                _mm_prefetch((const char *)ahead + 64 * line, _MM_HINT_T1);
            }
            quad_tile_groups(type, m, row, act, act_stride, QUAD_COLS, g, g + 1, false, acc);
        }
    } else {
        quad_tile_groups(type, m, row, act, act_stride, QUAD_COLS, g_begin, g_end, false, acc);
    }
    if (g_end == quad_row_groups(m)) {
        for (int c = 0; c < QUAD_COLS; c++) {
            y[c * y_stride + row] = hsum512(acc[c]);
        }
    } else {
        for (int c = 0; c < QUAD_COLS; c++) {
            _mm512_storeu_ps(partial + 16 * c, acc[c]);
        }
    }
}

/*
 * A batch's rows (up to QUAD_BATCH_ROWS) against QUAD_COLS columns, group by group: each group's
 * activations, read from L2 where a row's outgrow L1, then serve every row from L1. Each row's
 * sums wait in memory between groups and take their groups in order: quad_tile's bits. (Two
 * rows' sixteen accumulators left in registers made GCC spill the group's work instead: rows of
 * 1024, 15% slower.) A row's partial last group comes after its whole groups, as in quad_tile.
 */
#define QUAD_BATCH_ROWS 4

#if defined(__GNUC__) || defined(__clang__)
#define SUMS_IN_MEMORY() __asm__ volatile("" ::: "memory")
#else
#define SUMS_IN_MEMORY() ((void)0)
#endif

/* Group g of one row, whole or the row's partial last, continuing the row's sums. */
QUAD_ALWAYS_INLINE void quad_batch_group(uint32_t type, const struct rwkv_matrix * m, size_t row, const uint8_t * act,
                                         size_t act_stride, size_t g, bool whole, float * sums) {
    __m512 acc[QUAD_COLS];
    for (int c = 0; c < QUAD_COLS; c++) {
        acc[c] = _mm512_loadu_ps(sums + 16 * c);
    }
    if (whole) {
        /* Its tile directly, without quad_tile_groups' checks for a short last group. */
        const size_t group_bytes = RWKV_ACT_GROUP_BLOCKS * rwkv_quant_block_bytes(type);
        const uint8_t * group = m->data + row * m->row_bytes + g * group_bytes;
        prefetch_l2(group + PREFETCH_ROWS_AHEAD * m->row_bytes, group_bytes);
        tile_group(type, group, 4, RWKV_ACT_GROUP_BLOCKS, act, act_stride, g, QUAD_COLS, acc);
    } else {
        quad_tile_groups(type, m, row, act, act_stride, QUAD_COLS, g, g + 1, true, acc);
    }
    for (int c = 0; c < QUAD_COLS; c++) {
        _mm512_storeu_ps(sums + 16 * c, acc[c]);
    }
    SUMS_IN_MEMORY();
}

QUAD_ALWAYS_INLINE void quad_batch_rows(uint32_t type, const struct rwkv_matrix * m, const size_t * rows, int n_rows,
                                        const uint8_t * act, size_t act_stride, float * y, size_t y_stride) {
    const size_t n_groups = quad_row_groups(m);
    const size_t n_whole = m->n_in / (RWKV_QK * RWKV_ACT_GROUP_BLOCKS);
    /* Unaligned accesses only: GCC for Windows does not align the stack beyond 16 bytes. */
    float sums[QUAD_BATCH_ROWS][QUAD_COLS * 16];
    memset(sums, 0, sizeof sums);
    for (size_t g = 0; g < n_whole; g++) {
        for (int r = 0; r < n_rows; r++) {
            quad_batch_group(type, m, rows[r], act, act_stride, g, true, sums[r]);
        }
    }
    if (n_whole < n_groups) {
        for (int r = 0; r < n_rows; r++) {
            quad_batch_group(type, m, rows[r], act, act_stride, n_whole, false, sums[r]);
        }
    }
    for (int r = 0; r < n_rows; r++) {
        for (int c = 0; c < QUAD_COLS; c++) {
            y[c * y_stride + rows[r]] = hsum512(_mm512_loadu_ps(sums[r] + 16 * c));
        }
    }
}

/*
 * Decoding reads two rows per pass, half the thread's slice apart (two sequential streams), and
 * each activation load serves both. One thread, 2048 x 32768 from memory, best of four alternating
 * runs: Q4_0 45 -> 49 GMAC/s, Q5_1 32.5 -> 35; 5% from L2. Each row's arithmetic is quad_tile's
 * for one column, so the bits are the same. (Two neighbouring rows ran 2.4 times slower from
 * memory on the machine measured, with or without software prefetches.)
 */
QUAD_ALWAYS_INLINE void decode_group_pair(uint32_t type, const uint8_t * group0, const uint8_t * group1, int n_quads,
                                          int n_blocks, const struct rwkv_act_group * x, __m512 acc[2]) {
    const size_t bytes = rwkv_quant_block_bytes(type);
    const struct weight_scales scales0 = load_weight_scales(type, group0, n_blocks);
    const struct weight_scales scales1 = load_weight_scales(type, group1, n_blocks);
    __m512i dots0[4], dots1[4];
    for (int j = 0; j < 4; j++) {
        if (j < n_quads) {
            const struct weight_quad w0 = load_weight_quad(type, group0 + 4 * j * bytes, n_blocks - 4 * j);
            const struct weight_quad w1 = load_weight_quad(type, group1 + 4 * j * bytes, n_blocks - 4 * j);
            dots0[j] = quad_dot(type, &w0, &x->quads[j]);
            dots1[j] = quad_dot(type, &w1, &x->quads[j]);
        } else {
            dots0[j] = dots1[j] = _mm512_setzero_si512();
        }
    }
    acc[0] = scale_block_sums(type, block_sums(dots0[0], dots0[1], dots0[2], dots0[3]), &scales0, x, acc[0]);
    acc[1] = scale_block_sums(type, block_sums(dots1[0], dots1[1], dots1[2], dots1[3]), &scales1, x, acc[1]);
}

/* Rows row0 and row1 against one activation column, each prefetched ahead. */
QUAD_ALWAYS_INLINE void decode_pair(uint32_t type, const struct rwkv_matrix * m, size_t row0, size_t row1,
                                    const uint8_t * act, float * y) {
    const size_t bytes = rwkv_quant_block_bytes(type);
    const size_t n_blocks = m->n_in / RWKV_QK;
    const size_t group_bytes = RWKV_ACT_GROUP_BLOCKS * bytes;
    const uint8_t * weights0 = m->data + row0 * m->row_bytes;
    const uint8_t * weights1 = m->data + row1 * m->row_bytes;
    const struct rwkv_act_group * x = (const struct rwkv_act_group *)act;
    __m512 acc[2] = { _mm512_setzero_ps(), _mm512_setzero_ps() };
    for (size_t g = 0; g * RWKV_ACT_GROUP_BLOCKS < n_blocks; g++) {
        const uint8_t * group0 = weights0 + g * group_bytes;
        const uint8_t * group1 = weights1 + g * group_bytes;
        rwkv_decode_prefetch(group0, group_bytes);
        rwkv_decode_prefetch(group1, group_bytes);
        const size_t left = n_blocks - g * RWKV_ACT_GROUP_BLOCKS;
        /* The last group as in quad_tile: fewer quads as constants, or a partial last quad. */
        if (left >= RWKV_ACT_GROUP_BLOCKS) {
            decode_group_pair(type, group0, group1, 4, RWKV_ACT_GROUP_BLOCKS, x + g, acc);
        } else if (left == 4) {
            decode_group_pair(type, group0, group1, 1, 4, x + g, acc);
        } else if (left == 8) {
            decode_group_pair(type, group0, group1, 2, 8, x + g, acc);
        } else if (left == 12) {
            decode_group_pair(type, group0, group1, 3, 12, x + g, acc);
        } else {
            decode_group_pair(type, group0, group1, (int)((left + 3) / 4), (int)left, x + g, acc);
        }
    }
    y[row0] = hsum512(acc[0]);
    y[row1] = hsum512(acc[1]);
}

QUAD_ALWAYS_INLINE void decode_rows(uint32_t type, const struct rwkv_matrix * m, size_t row_begin, size_t row_end,
                                    const uint8_t * act, float * y) {
    const size_t half = (row_end - row_begin) / 2;
    for (size_t r = row_begin; r < row_begin + half; r++) {
        decode_pair(type, m, r, r + half, act, y);
    }
    if ((row_end - row_begin) % 2 != 0) {
        quad_tile(type, m, row_end - 1, act, 0, 1, y, 0);
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
    static void name##_slice(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride, \
                             size_t g_begin, size_t g_end, float * partial, float * y, size_t y_stride) {     \
        quad_tile_slice(type, w, row, act, act_stride, g_begin, g_end, partial, y, y_stride);                  \
    }                                                                                                          \
    static void name##_rows(const struct rwkv_matrix * w, size_t row_begin, size_t row_end, const uint8_t * act, \
                            float * y) {                                                                       \
        decode_rows(type, w, row_begin, row_end, act, y);                                                      \
    }                                                                                                          \
    static void name##_batch(const struct rwkv_matrix * w, const size_t * rows, int n_rows, const uint8_t * act, \
                             size_t act_stride, float * y, size_t y_stride) {                                  \
        quad_batch_rows(type, w, rows, n_rows, act, act_stride, y, y_stride);                                  \
    }                                                                                                          \
    static const struct quad_tiles name##_quad_tiles = { name##_many, name##_one, name##_slice, name##_rows,  \
                                                         name##_batch };

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
