/*
 * AVX2 products of quantized weights with rwkv_act_group activations, a pair of blocks per
 * 256-bit step. Included by kernels_avx2.c (integer dots with maddubs and madd) and
 * kernels_avx2_vnni.c (with AVX-VNNI's dpbusd, one instruction where those take two), which
 * define PAIR_DOT_VNNI as 0 or 1 first. The integer sums are exact either way and every float
 * operation is the same, so both give the same bits.
 */
#ifndef PAIR_DOT_VNNI
#error "define PAIR_DOT_VNNI (0 or 1) before including pairs_avx2.h"
#endif

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "data_types.h"
#include "kernels.h"
#include "reduce_avx2.h"

#ifndef ALWAYS_INLINE
#if defined(_MSC_VER) && !defined(__clang__)
#define ALWAYS_INLINE static __forceinline
#else
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#endif
#endif

/*
 * Activations are the AVX-512 level's rwkv_act_group records (kernels.h), and each row is summed
 * lane for lane as that level sums it, so the two levels give the same bits. A group of sixteen
 * blocks goes in two halves of eight: half h takes blocks 4j + 2h and 4j + 2h + 1 of each quad j,
 * a pair A, B whose elements lie side by side in the quad's record (bytes 32h..32h+31 of lo and
 * hi) as one load per nibble half reads them from the weights: lo = [A 0-15 | B 0-15],
 * hi = [A 16-31 | B 16-31]. A pair's exact integer dot leaves A's partial sums in int32 lanes 0-3
 * and B's in lanes 4-7; three hadds add the four pairs' up per block into [A of quads 0-3 | B of
 * quads 0-3], lanes 8h..8h+7 of the group's order (RWKV_ACT_GROUP_LANE). One multiply of weight
 * and activation scales, one conversion and one multiply-add then scale eight blocks (+ m_w * s_x
 * for Q4_1/Q5_1, a second multiply-add); per block pair that had been five float instructions
 * and a scale shuffle. Offset types (Q4_0 stores q + 8, Q5_0 q + 16) subtract the record's
 * offsets (that offset times the block's sum of q) from the block sums; Q8_0 moves the weight's
 * sign onto the activation instead.
 */

/* Columns per sequence-mode tile: each weight pair is unpacked once for all of them. */
#define QUANT_COLS 8
/* Sequence mode prefetches the weights of the row this many rows ahead. */
#define PREFETCH_ROWS_AHEAD 4

ALWAYS_INLINE bool has_offset(uint32_t type) {
    return type == RWKV_TYPE_Q4_0 || type == RWKV_TYPE_Q5_0;
}

ALWAYS_INLINE int load32(const uint8_t * p) {
    int v;
    memcpy(&v, p, 4);
    return v;
}

/* [16 bytes at a | 16 bytes at b]. */
ALWAYS_INLINE __m256i load_halves(const uint8_t * a, const uint8_t * b) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)a)),
                                   _mm_loadu_si128((const __m128i *)b), 1);
}

/*
 * The fifth bits of a block pair, qh_a | qh_b << 32, as 16 or 0 per byte in the pair arrangement:
 * lo = [A bits 0-15 | B bits 0-15], hi = [A bits 16-31 | B bits 16-31].
 */
ALWAYS_INLINE void expand_fifth_bits(uint64_t bits, __m256i * lo, __m256i * hi) {
    /* Byte k of the 64-bit word holds bits 8k..8k+7: A in bytes 0-3, B in bytes 4-7. */
    const __m256i lo_bytes = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                              4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5);
    const __m256i hi_bytes = _mm256_setr_epi8(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
                                              6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7);
    const __m256i bit_in_byte = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    const __m256i sixteen = _mm256_set1_epi8(16);
    __m256i all = _mm256_set1_epi64x((long long)bits);
    __m256i lo_set = _mm256_and_si256(_mm256_shuffle_epi8(all, lo_bytes), bit_in_byte);
    __m256i hi_set = _mm256_and_si256(_mm256_shuffle_epi8(all, hi_bytes), bit_in_byte);
    *lo = _mm256_and_si256(_mm256_cmpeq_epi8(lo_set, bit_in_byte), sixteen);
    *hi = _mm256_and_si256(_mm256_cmpeq_epi8(hi_set, bit_in_byte), sixteen);
}

/* One weight pair's q bytes (unsigned, or signed for Q8_0) in the pair arrangement. */
struct weight_pair {
    __m256i lo, hi;
};

ALWAYS_INLINE struct weight_pair load_weight_pair(uint32_t type, const uint8_t * a) {
    const uint8_t * b = a + rwkv_quant_block_bytes(type);
    struct weight_pair w;
    if (type == RWKV_TYPE_Q8_0) {
        w.lo = load_halves(a + 2, b + 2);
        w.hi = load_halves(a + 18, b + 18);
        return w;
    }
    const size_t qh = rwkv_quant_is_affine(type) ? 4 : 2;
    const bool five_bits = type == RWKV_TYPE_Q5_0 || type == RWKV_TYPE_Q5_1;
    const size_t qs = five_bits ? qh + 4 : qh;
    const __m256i low_nibble = _mm256_set1_epi8(0x0f);
    __m256i packed = load_halves(a + qs, b + qs);
    w.lo = _mm256_and_si256(packed, low_nibble);
    w.hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_nibble);
    if (five_bits) {
        __m256i fifth_lo, fifth_hi;
        expand_fifth_bits((uint32_t)load32(a + qh) | (uint64_t)(uint32_t)load32(b + qh) << 32, &fifth_lo, &fifth_hi);
        w.lo = _mm256_or_si256(w.lo, fifth_lo);
        w.hi = _mm256_or_si256(w.hi, fifth_hi);
    }
    return w;
}

/* Exact integer dots of a weight pair with the activations of the same two blocks (lo and hi
   32 bytes each, in the pair arrangement): lanes 0-3 block A, 4-7 block B. */
ALWAYS_INLINE __m256i pair_dot(uint32_t type, const struct weight_pair * w, const int8_t * x_lo, const int8_t * x_hi) {
#if !PAIR_DOT_VNNI
    const __m256i ones = _mm256_set1_epi16(1);
#endif
    const __m256i lo = _mm256_loadu_si256((const __m256i *)x_lo);
    const __m256i hi = _mm256_loadu_si256((const __m256i *)x_hi);
    if (type == RWKV_TYPE_Q8_0) {
        /* |w| * (x with w's sign). */
        const __m256i w_lo = _mm256_sign_epi8(w->lo, w->lo), x_lo_signed = _mm256_sign_epi8(lo, w->lo);
        const __m256i w_hi = _mm256_sign_epi8(w->hi, w->hi), x_hi_signed = _mm256_sign_epi8(hi, w->hi);
#if PAIR_DOT_VNNI
        return _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), w_lo, x_lo_signed), w_hi,
                                       x_hi_signed);
#else
        /* Products up to 128 * 127, so pairs of lo and hi must not be added in int16. */
        return _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(w_lo, x_lo_signed), ones),
                                _mm256_madd_epi16(_mm256_maddubs_epi16(w_hi, x_hi_signed), ones));
#endif
    }
#if PAIR_DOT_VNNI
    return _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), w->lo, lo), w->hi, hi);
#else
    /* q <= 31: each int16 sum stays under 2 * 2 * 31 * 127 < 32768. */
    return _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(w->lo, lo), _mm256_maddubs_epi16(w->hi, hi)), ones);
#endif
}

/* Four pairs' dots added up per block, exactly: [A of d0..d3 | B of d0..d3]. */
ALWAYS_INLINE __m256i pair_block_sums(__m256i d0, __m256i d1, __m256i d2, __m256i d3) {
    return _mm256_hadd_epi32(_mm256_hadd_epi32(d0, d1), _mm256_hadd_epi32(d2, d3));
}

/* A half group's weight scales d (and m, for Q4_1/Q5_1) in the block sums' lane order. */
struct half_scales {
    __m256 d, m;
};

ALWAYS_INLINE struct half_scales load_half_scales(uint32_t type, const uint8_t * group, int half, int n_quads) {
    const size_t bytes = rwkv_quant_block_bytes(type);
    /* Each pair's first dwords (binary16 d, then m or two q bytes): [A, B]... */
    __m128i pairs[4];
    for (int j = 0; j < 4; j++) {
        const uint8_t * a = group + (size_t)(4 * j + 2 * half) * bytes;
        pairs[j] = j < n_quads ? _mm_insert_epi32(_mm_cvtsi32_si128(load32(a)), load32(a + bytes), 1)
                               : _mm_setzero_si128();
    }
    /* ...as [A0, A1, B0, B1] and [A2, A3, B2, B3], whose halves convert to [d, m] float pairs; the
       even floats of both, per 128-bit lane, are then [d of A0-A3 | d of B0-B3], the odd ones m. */
    const __m256 first = _mm256_cvtph_ps(_mm_unpacklo_epi32(pairs[0], pairs[1]));
    const __m256 second = _mm256_cvtph_ps(_mm_unpacklo_epi32(pairs[2], pairs[3]));
    struct half_scales s;
    s.d = _mm256_shuffle_ps(first, second, _MM_SHUFFLE(2, 0, 2, 0));
    s.m = rwkv_quant_is_affine(type) ? _mm256_shuffle_ps(first, second, _MM_SHUFFLE(3, 1, 3, 1)) : _mm256_setzero_ps();
    return s;
}

/* acc + d_w * d_x * (sums - offsets) (+ m_w * s_x for Q4_1/Q5_1) for half h of a group: the
   AVX-512 level's float work on the same eight lanes. */
ALWAYS_INLINE __m256 scale_half_sums(uint32_t type, __m256i sums, const struct half_scales * scales,
                                     const struct rwkv_act_group * x, int half, __m256 acc) {
    if (has_offset(type)) {
        sums = _mm256_sub_epi32(sums, _mm256_loadu_si256((const __m256i *)(x->offsets + 8 * half)));
    }
    const __m256 products = _mm256_mul_ps(scales->d, _mm256_loadu_ps(x->d + 8 * half));
    acc = _mm256_fmadd_ps(products, _mm256_cvtepi32_ps(sums), acc);
    if (rwkv_quant_is_affine(type)) {
        acc = _mm256_fmadd_ps(scales->m, _mm256_loadu_ps(x->s + 8 * half), acc);
    }
    return acc;
}

/* One group (n_quads whole quads at `group`, zero after them) against n_cols columns; acc[c][h]
   holds lanes 8h..8h+7 of column c. A half's four weight pairs stay in registers while the
   columns pass over them. */
ALWAYS_INLINE void accumulate_group(uint32_t type, const uint8_t * group, int n_quads, const uint8_t * act,
                                    size_t act_stride, size_t g, int n_cols, __m256 acc[][2]) {
    const size_t bytes = rwkv_quant_block_bytes(type);
    for (int h = 0; h < 2; h++) {
        const struct half_scales scales = load_half_scales(type, group, h, n_quads);
        struct weight_pair w[4];
        for (int j = 0; j < n_quads; j++) {
            w[j] = load_weight_pair(type, group + (size_t)(4 * j + 2 * h) * bytes);
        }
        for (int c = 0; c < n_cols; c++) {
            const struct rwkv_act_group * x = (const struct rwkv_act_group *)(act + c * act_stride) + g;
            __m256i dots[4];
            for (int j = 0; j < 4; j++) {
                dots[j] = j < n_quads ? pair_dot(type, &w[j], x->quads[j].lo + 32 * h, x->quads[j].hi + 32 * h)
                                      : _mm256_setzero_si256();
            }
            acc[c][h] = scale_half_sums(type, pair_block_sums(dots[0], dots[1], dots[2], dots[3]), &scales, x, h,
                                        acc[c][h]);
        }
    }
}

ALWAYS_INLINE void prefetch_l2(const uint8_t * bytes, size_t n) {
    for (size_t line = 0; line < n; line += 64) {
        _mm_prefetch((const char *)bytes + line, _MM_HINT_T1);
    }
}

/* Groups of sixteen blocks in a row, the last one possibly partial. */
ALWAYS_INLINE size_t row_groups(const struct rwkv_matrix * w) {
    return (w->n_in / RWKV_QK + RWKV_ACT_GROUP_BLOCKS - 1) / RWKV_ACT_GROUP_BLOCKS;
}

/* The blocks of group g of a row: all sixteen, whole quads of a shorter last group, or a copy of
   a last group that ends in a partial quad, padded with zero blocks (zero scales add nothing). */
struct row_group {
    const uint8_t * bytes;
    int n_quads;
};

ALWAYS_INLINE struct row_group row_group_at(uint32_t type, const uint8_t * row, size_t n_blocks, size_t g,
                                            uint8_t padded[RWKV_ACT_GROUP_BLOCKS * 34]) {
    const size_t bytes = rwkv_quant_block_bytes(type);
    const size_t left = n_blocks - g * RWKV_ACT_GROUP_BLOCKS;
    struct row_group group = { row + g * RWKV_ACT_GROUP_BLOCKS * bytes, 4 };
    if (left < RWKV_ACT_GROUP_BLOCKS) {
        group.n_quads = (int)((left + 3) / 4);
        if (left % 4 != 0) {
            memset(padded, 0, RWKV_ACT_GROUP_BLOCKS * 34);
            memcpy(padded, group.bytes, left * bytes);
            group.bytes = padded;
        }
    }
    return group;
}

/* One group with n_quads a constant, so a short last group's pairs stay in registers. */
ALWAYS_INLINE void tile_group(uint32_t type, struct row_group group, const uint8_t * act, size_t act_stride, size_t g,
                              int n_cols, __m256 acc[][2]) {
    switch (group.n_quads) {
    case 4: accumulate_group(type, group.bytes, 4, act, act_stride, g, n_cols, acc); break;
    case 3: accumulate_group(type, group.bytes, 3, act, act_stride, g, n_cols, acc); break;
    case 2: accumulate_group(type, group.bytes, 2, act, act_stride, g, n_cols, acc); break;
    default: accumulate_group(type, group.bytes, 1, act, act_stride, g, n_cols, acc); break;
    }
}

/*
 * Groups [g_begin, g_end) of one weight row against n_cols activation columns (n_cols <=
 * QUANT_COLS). A whole row (partial NULL) writes y; slices of a long row continue the sums kept in
 * partial (n_cols x 16 floats) between calls, and the last slice writes y. Each lane adds the
 * same terms in the same order either way, so the bits are the same.
 */
ALWAYS_INLINE void quant_tile(uint32_t type, const struct rwkv_matrix * w, size_t row, const uint8_t * act,
                              size_t act_stride, int n_cols, size_t g_begin, size_t g_end, float * partial, float * y,
                              size_t y_stride) {
    const size_t n_blocks = w->n_in / RWKV_QK;
    const size_t group_bytes = RWKV_ACT_GROUP_BLOCKS * rwkv_quant_block_bytes(type);
    const uint8_t * weights = w->data + row * w->row_bytes;
    __m256 acc[QUANT_COLS][2];
    for (int c = 0; c < n_cols; c++) {
        for (int h = 0; h < 2; h++) {
            acc[c][h] = g_begin == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(partial + 16 * c + 8 * h);
        }
    }
    /* Sequence mode spends long enough per row that the hardware prefetchers fall behind when rows
       come from memory: ask for the row four ahead into L2, group by group as this one is read, or
       whole in a long row's first slice (its later slices then find it there). */
    const uint8_t * ahead = weights + PREFETCH_ROWS_AHEAD * w->row_bytes;
    if (n_cols == QUANT_COLS && partial != NULL && g_begin == 0) {
        prefetch_l2(ahead, w->row_bytes);
    }
    uint8_t padded[RWKV_ACT_GROUP_BLOCKS * 34];
    for (size_t g = g_begin; g < g_end; g++) {
        if (n_cols == QUANT_COLS && partial == NULL) {
            prefetch_l2(ahead + g * group_bytes, group_bytes);
        }
        tile_group(type, row_group_at(type, weights, n_blocks, g, padded), act, act_stride, g, n_cols, acc);
    }
    for (int c = 0; c < n_cols; c++) {
        if (partial == NULL || g_end == row_groups(w)) {
            y[c * y_stride + row] = horizontal_sum(_mm256_add_ps(acc[c][0], acc[c][1]));
        } else {
            _mm256_storeu_ps(partial + 16 * c, acc[c][0]);
            _mm256_storeu_ps(partial + 16 * c + 8, acc[c][1]);
        }
    }
}

/* Two rows' group against one column: each activation load serves both rows. Each row's pairs
   are read in order, both halves of a quad before the next quad, so that the rows stream from
   memory as the hardware prefetchers expect (half by half, which jumps back within the group,
   decoded Q8_0 8% slower). */
ALWAYS_INLINE void decode_group_pair(uint32_t type, const uint8_t * group0, const uint8_t * group1, int n_quads,
                                     const struct rwkv_act_group * x, __m256 acc[2][2]) {
    const size_t bytes = rwkv_quant_block_bytes(type);
    __m256i dots[2][2][4]; /* row, half, quad */
    for (int j = 0; j < 4; j++) {
        for (int h = 0; h < 2; h++) {
            if (j < n_quads) {
                const size_t at = (size_t)(4 * j + 2 * h) * bytes;
                const struct weight_pair w0 = load_weight_pair(type, group0 + at);
                const struct weight_pair w1 = load_weight_pair(type, group1 + at);
                dots[0][h][j] = pair_dot(type, &w0, x->quads[j].lo + 32 * h, x->quads[j].hi + 32 * h);
                dots[1][h][j] = pair_dot(type, &w1, x->quads[j].lo + 32 * h, x->quads[j].hi + 32 * h);
            } else {
                dots[0][h][j] = dots[1][h][j] = _mm256_setzero_si256();
            }
        }
    }
    for (int h = 0; h < 2; h++) {
        const struct half_scales scales0 = load_half_scales(type, group0, h, n_quads);
        const struct half_scales scales1 = load_half_scales(type, group1, h, n_quads);
        acc[0][h] = scale_half_sums(type, pair_block_sums(dots[0][h][0], dots[0][h][1], dots[0][h][2], dots[0][h][3]),
                                    &scales0, x, h, acc[0][h]);
        acc[1][h] = scale_half_sums(type, pair_block_sums(dots[1][h][0], dots[1][h][1], dots[1][h][2], dots[1][h][3]),
                                    &scales1, x, h, acc[1][h]);
    }
}

/*
 * Decoding reads two rows per pass, half the thread's slice apart: each activation load serves
 * both, and the slice is read as two sequential streams (two neighbouring rows per pass read
 * slower from memory, as on AVX-512: quads_avx512.h), each prefetched ahead. Each row's
 * arithmetic is quant_tile's.
 */
ALWAYS_INLINE void decode_pair(uint32_t type, const struct rwkv_matrix * w, size_t row0, size_t row1,
                               const uint8_t * act, float * y) {
    const size_t n_blocks = w->n_in / RWKV_QK;
    const uint8_t * weights0 = w->data + row0 * w->row_bytes;
    const uint8_t * weights1 = w->data + row1 * w->row_bytes;
    const struct rwkv_act_group * x = (const struct rwkv_act_group *)act;
    __m256 acc[2][2] = { { _mm256_setzero_ps(), _mm256_setzero_ps() }, { _mm256_setzero_ps(), _mm256_setzero_ps() } };
    uint8_t padded[2][RWKV_ACT_GROUP_BLOCKS * 34];
    const size_t group_bytes = RWKV_ACT_GROUP_BLOCKS * rwkv_quant_block_bytes(type);
    for (size_t g = 0; g < row_groups(w); g++) {
        rwkv_decode_prefetch(weights0 + g * group_bytes, group_bytes);
        rwkv_decode_prefetch(weights1 + g * group_bytes, group_bytes);
        const struct row_group group0 = row_group_at(type, weights0, n_blocks, g, padded[0]);
        const struct row_group group1 = row_group_at(type, weights1, n_blocks, g, padded[1]);
        switch (group0.n_quads) {
        case 4: decode_group_pair(type, group0.bytes, group1.bytes, 4, x + g, acc); break;
        case 3: decode_group_pair(type, group0.bytes, group1.bytes, 3, x + g, acc); break;
        case 2: decode_group_pair(type, group0.bytes, group1.bytes, 2, x + g, acc); break;
        default: decode_group_pair(type, group0.bytes, group1.bytes, 1, x + g, acc); break;
        }
    }
    y[row0] = horizontal_sum(_mm256_add_ps(acc[0][0], acc[0][1]));
    y[row1] = horizontal_sum(_mm256_add_ps(acc[1][0], acc[1][1]));
}

ALWAYS_INLINE void quant_decode_rows(uint32_t type, const struct rwkv_matrix * w, size_t row_begin, size_t row_end,
                                     const uint8_t * act, float * y) {
    const size_t half = (row_end - row_begin) / 2;
    for (size_t r = row_begin; r < row_begin + half; r++) {
        decode_pair(type, w, r, r + half, act, y);
    }
    if ((row_end - row_begin) % 2 != 0) {
        quant_tile(type, w, row_end - 1, act, 0, 1, 0, row_groups(w), NULL, y, 0);
    }
}

/* A type's tiles: QUANT_COLS columns or one of a row, and decoding's loop over a slice of rows. */
typedef void (*quant_tile_fn)(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,
                              size_t g_begin, size_t g_end, float * partial, float * y, size_t y_stride);
typedef void (*quant_rows_fn)(const struct rwkv_matrix * w, size_t row_begin, size_t row_end, const uint8_t * act,
                              float * y);

struct quant_tiles {
    quant_tile_fn many_cols;
    quant_rows_fn decode_rows;
};

#define QUANT_TILES(name, type)                                                                                 \
    static void name##_many(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride, \
                            size_t g_begin, size_t g_end, float * partial, float * y, size_t y_stride) {       \
        quant_tile(type, w, row, act, act_stride, QUANT_COLS, g_begin, g_end, partial, y, y_stride);           \
    }                                                                                                          \
    static void name##_rows(const struct rwkv_matrix * w, size_t row_begin, size_t row_end, const uint8_t * act, \
                            float * y) {                                                                       \
        quant_decode_rows(type, w, row_begin, row_end, act, y);                                                \
    }                                                                                                          \
    static const struct quant_tiles name##_quant_tiles = { name##_many, name##_rows };

QUANT_TILES(q4_0, RWKV_TYPE_Q4_0)
QUANT_TILES(q4_1, RWKV_TYPE_Q4_1)
QUANT_TILES(q5_0, RWKV_TYPE_Q5_0)
QUANT_TILES(q5_1, RWKV_TYPE_Q5_1)
QUANT_TILES(q8_0, RWKV_TYPE_Q8_0)

static const struct quant_tiles * quant_tiles_for(uint32_t type) {
    switch (type) {
    case RWKV_TYPE_Q4_0: return &q4_0_quant_tiles;
    case RWKV_TYPE_Q4_1: return &q4_1_quant_tiles;
    case RWKV_TYPE_Q5_0: return &q5_0_quant_tiles;
    case RWKV_TYPE_Q5_1: return &q5_1_quant_tiles;
    case RWKV_TYPE_Q8_0: return &q8_0_quant_tiles;
    default: return NULL;
    }
}
