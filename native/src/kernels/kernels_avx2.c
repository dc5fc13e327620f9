/*
 * AVX2 + FMA + F16C kernels. Compiled with those flags; called only when dispatch saw them.
 *
 * Decoding is a matrix-vector product per weight matrix, bound by memory bandwidth: one row at a
 * time against one activation column (blocks of rows in column chunks where float activations
 * outgrow L1). Sequence mode (several columns) walks the rows in
 * tiles small enough to stay in cache while every column passes over them, 2 columns at a time
 * so each loaded (and unpacked) weight vector serves both.
 *
 * Bit identity: every output element goes through the same instructions in the same order
 * whether its tile has 1 or 4 rows and 1 or 2 columns (the loops below over rows and columns
 * only replicate independent per-element work), so results never depend on n_cols or the row
 * range.
 *
 * Quantized weights use exact integer dots per 32-block: maddubs multiplies unsigned weight
 * bytes by signed activation bytes into int16 pairs, madd sums those to int32. Offset types
 * (Q4_0 stores q + 8, Q5_0 q + 16) subtract offset * sum(y), computed once per activation block
 * and shared by all rows; Q8_0 moves the weight's sign onto the activation instead.
 */
#include <immintrin.h>
#include <string.h>

#include "data_types.h"
#include "kernels.h"
#include "quant_blocks.h"

#if defined(_MSC_VER) && !defined(__clang__)
#define ALWAYS_INLINE static __forceinline
#else
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#endif

#define TILE_MAX_ROWS 4
#define TILE_MAX_COLS 2
/* Weight bytes per row tile in sequence mode: well inside L2 with the activations beside it. */
#define TILE_BYTES (64 * 1024)

static float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Lanes [0, count) all ones, for masked loads of a row's last partial vector. */
static __m256i first_lanes(size_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* ---- FP32 and FP16 weights (activations are float32 either way) ---------------------------- */

ALWAYS_INLINE __m256 load_weights(uint32_t type, const uint8_t * row, size_t i) {
    if (type == RWKV_TYPE_FP16) {
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * i)));
    }
    return _mm256_loadu_ps((const float *)(row + 4 * i));
}

/* The last 1..7 weights of a row, zero-filled, without reading past the row. */
ALWAYS_INLINE __m256 load_weights_partial(uint32_t type, const uint8_t * row, size_t i, size_t count) {
    if (type == RWKV_TYPE_FP16) {
        uint16_t halves[8] = { 0 };
        memcpy(halves, row + 2 * i, 2 * count);
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)halves));
    }
    return _mm256_maskload_ps((const float *)(row + 4 * i), first_lanes(count));
}

/* Keeps a vector in a register: without it the compiler folds the load into each FMA that uses
   it, and a 2-column tile then reloads its activations once per row. */
#if defined(__GNUC__) || defined(__clang__)
#define IN_REGISTER(v) __asm__("" : "+x"(v))
#else
#define IN_REGISTER(v) ((void)0)
#endif

/*
 * Two accumulators per element, 8 lanes each: elements 16k..16k+7 go to the first, 16k+8..16k+15
 * to the second, a last group of 8 to the first and a partial tail to the second, then their sum
 * is reduced. With one chain per element, decoding one row waited on the FMA latency (4 cycles
 * per 8 weights: 15 GB/s of FP16); two keep up with memory. At most 8 element chains live at once
 * (16 registers): a 4 x 2 tile runs as two 2 x 2 halves, the same instructions per element.
 */
ALWAYS_INLINE void float_tile_core(uint32_t type, const struct rwkv_matrix * w, size_t row, int n_rows,
                                   const uint8_t * act, size_t act_stride, int n_cols, float * y, size_t y_stride) {
    const size_t n = w->n_in;
    const uint8_t * rows[TILE_MAX_ROWS];
    const float * cols[TILE_MAX_COLS];
    __m256 acc0[TILE_MAX_ROWS][TILE_MAX_COLS], acc1[TILE_MAX_ROWS][TILE_MAX_COLS];
    for (int r = 0; r < n_rows; r++) {
        rows[r] = w->data + (row + r) * w->row_bytes;
        for (int c = 0; c < n_cols; c++) {
            acc0[r][c] = _mm256_setzero_ps();
            acc1[r][c] = _mm256_setzero_ps();
        }
    }
    for (int c = 0; c < n_cols; c++) {
        cols[c] = (const float *)(act + c * act_stride);
    }
    /* Sequence mode: the rows after these are contiguous with them; fetch them into L2 as these
       are read, since the hardware prefetchers follow interleaved rows poorly from memory (8
       columns of 1024 x 65536 FP16: 21.5 -> 33.2 GMAC/s). n_rows x 16 elements per step. */
    const bool prefetch_next_rows = n_cols == TILE_MAX_COLS;
    const size_t step_bytes = (size_t)n_rows * 16 * (type == RWKV_TYPE_FP16 ? 2 : 4);
    const char * next_rows = (const char *)rows[0] + n_rows * w->row_bytes;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        if (prefetch_next_rows) {
            const char * ahead = next_rows + step_bytes * (i / 16);
            for (size_t line = 0; line < step_bytes; line += 64) {
                _mm_prefetch(ahead + line, _MM_HINT_T1);
            }
        }
        __m256 x0[TILE_MAX_COLS], x1[TILE_MAX_COLS];
        for (int c = 0; c < n_cols; c++) {
            x0[c] = _mm256_loadu_ps(cols[c] + i);
            x1[c] = _mm256_loadu_ps(cols[c] + i + 8);
            if (n_rows > 1) {
                IN_REGISTER(x0[c]);
                IN_REGISTER(x1[c]);
            }
        }
        for (int r = 0; r < n_rows; r++) {
            __m256 w0 = load_weights(type, rows[r], i);
            __m256 w1 = load_weights(type, rows[r], i + 8);
            for (int c = 0; c < n_cols; c++) {
                acc0[r][c] = _mm256_fmadd_ps(w0, x0[c], acc0[r][c]);
                acc1[r][c] = _mm256_fmadd_ps(w1, x1[c], acc1[r][c]);
            }
        }
    }
    if (i + 8 <= n) {
        for (int r = 0; r < n_rows; r++) {
            __m256 wv = load_weights(type, rows[r], i);
            for (int c = 0; c < n_cols; c++) {
                acc0[r][c] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(cols[c] + i), acc0[r][c]);
            }
        }
        i += 8;
    }
    if (i < n) {
        __m256 x[TILE_MAX_COLS];
        for (int c = 0; c < n_cols; c++) {
            x[c] = _mm256_maskload_ps(cols[c] + i, first_lanes(n - i));
        }
        for (int r = 0; r < n_rows; r++) {
            __m256 wv = load_weights_partial(type, rows[r], i, n - i);
            for (int c = 0; c < n_cols; c++) {
                acc1[r][c] = _mm256_fmadd_ps(wv, x[c], acc1[r][c]);
            }
        }
    }
    for (int r = 0; r < n_rows; r++) {
        for (int c = 0; c < n_cols; c++) {
            y[c * y_stride + row + r] = hsum(_mm256_add_ps(acc0[r][c], acc1[r][c]));
        }
    }
}

ALWAYS_INLINE void float_tile(uint32_t type, const struct rwkv_matrix * w, size_t row, int n_rows, const uint8_t * act,
                              size_t act_stride, int n_cols, float * y, size_t y_stride) {
    if (n_rows * n_cols > 4) {
        float_tile_core(type, w, row, n_rows / 2, act, act_stride, n_cols, y, y_stride);
        float_tile_core(type, w, row + n_rows / 2, n_rows - n_rows / 2, act, act_stride, n_cols, y, y_stride);
    } else {
        float_tile_core(type, w, row, n_rows, act, act_stride, n_cols, y, y_stride);
    }
}

/*
 * Decoding rows whose float activations outgrow L1, in blocks (kernels.h). Chunks are whole
 * multiples of 16 elements, so every element meets the same accumulator and the same
 * instructions as in float_tile_core; each row's two accumulators wait in a buffer between chunks.
 */
ALWAYS_INLINE void float_decode_chunked(uint32_t type, const struct rwkv_matrix * w, size_t row_begin, size_t row_end,
                                        const float * x, float * y) {
    const size_t n = w->n_in;
    /* One prefetched cache line per 64 bytes of weights read: every 32 (FP16) or 16 (FP32) elements. */
    const size_t prefetch_every = 64 / (type == RWKV_TYPE_FP16 ? 2 : 4);
    const size_t block_rows = rwkv_decode_block_rows(w);
    __m256 partial0[RWKV_DECODE_BLOCK_MAX_ROWS], partial1[RWKV_DECODE_BLOCK_MAX_ROWS];
    for (size_t begin = row_begin; begin < row_end; begin += block_rows) {
        struct rwkv_decode_block block = rwkv_decode_block_at(w, begin, block_rows, row_end);
        for (size_t r = 0; r < block.end - block.begin; r++) {
            partial0[r] = _mm256_setzero_ps();
            partial1[r] = _mm256_setzero_ps();
        }
        for (size_t chunk = 0; chunk < n; chunk += RWKV_DECODE_CHUNK_ELEMENTS) {
            const size_t chunk_end = chunk + RWKV_DECODE_CHUNK_ELEMENTS < n ? chunk + RWKV_DECODE_CHUNK_ELEMENTS : n;
            for (size_t r = block.begin; r < block.end; r++) {
                const uint8_t * row = w->data + r * w->row_bytes;
                __m256 acc0 = partial0[r - block.begin], acc1 = partial1[r - block.begin];
                size_t i = chunk;
                for (; i + 16 <= chunk_end; i += 16) {
                    if (i % prefetch_every == 0 && block.next < block.next_stop) {
                        _mm_prefetch(block.next, _MM_HINT_T1);
                        block.next += 64;
                    }
                    acc0 = _mm256_fmadd_ps(load_weights(type, row, i), _mm256_loadu_ps(x + i), acc0);
                    acc1 = _mm256_fmadd_ps(load_weights(type, row, i + 8), _mm256_loadu_ps(x + i + 8), acc1);
                }
                /* Only the last chunk has a remainder: float_tile_core's tail. */
                if (i + 8 <= chunk_end) {
                    acc0 = _mm256_fmadd_ps(load_weights(type, row, i), _mm256_loadu_ps(x + i), acc0);
                    i += 8;
                }
                if (i < chunk_end) {
                    acc1 = _mm256_fmadd_ps(load_weights_partial(type, row, i, chunk_end - i),
                                           _mm256_maskload_ps(x + i, first_lanes(chunk_end - i)), acc1);
                }
                partial0[r - block.begin] = acc0;
                partial1[r - block.begin] = acc1;
            }
        }
        for (size_t r = block.begin; r < block.end; r++) {
            y[r] = hsum(_mm256_add_ps(partial0[r - block.begin], partial1[r - block.begin]));
        }
    }
}

static void float_decode_long_rows(const struct rwkv_matrix * w, size_t row_begin, size_t row_end, const float * x,
                                   float * y) {
    if (w->type == RWKV_TYPE_FP16) {
        float_decode_chunked(RWKV_TYPE_FP16, w, row_begin, row_end, x, y);
    } else {
        float_decode_chunked(RWKV_TYPE_FP32, w, row_begin, row_end, x, y);
    }
}

/* ---- Quantized weights ----------------------------------------------------------------------- */

/*
 * Blocks go in pairs A, B, arranged so one 4-bit load serves both: byte j of A's and B's nibbles
 * side by side gives lo = [A 0-15 | B 0-15] and hi = [A 16-31 | B 16-31]. After madd, int32
 * lanes 0-3 hold A's partial sums and lanes 4-7 B's, so one float multiply-add per pair applies
 * both scales. A row with an odd block count pairs its last block with a zero block.
 */
static const uint8_t ZERO_BLOCK[64];

/* As rwkv_type_block_bytes, but visible to the compiler, so block offsets become constants. */
ALWAYS_INLINE size_t weight_block_bytes(uint32_t type) {
    switch (type) {
    case RWKV_TYPE_Q4_0: return 18;
    case RWKV_TYPE_Q4_1: return 20;
    case RWKV_TYPE_Q5_0: return 22;
    case RWKV_TYPE_Q5_1: return 24;
    default: return 34;
    }
}

ALWAYS_INLINE bool is_affine(uint32_t type) {
    return type == RWKV_TYPE_Q4_1 || type == RWKV_TYPE_Q5_1;
}

/* Q4_0 and Q5_0 store q + 8 / q + 16; the dot subtracts offset * sum(y) instead of unpacking signs. */
ALWAYS_INLINE int weight_offset(uint32_t type) {
    return type == RWKV_TYPE_Q4_0 ? 8 : type == RWKV_TYPE_Q5_0 ? 16 : 0;
}

/* [16 bytes at a | 16 bytes at b]. */
static __m256i load_halves(const uint8_t * a, const uint8_t * b) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)a)),
                                   _mm_loadu_si128((const __m128i *)b), 1);
}

/*
 * The fifth bits of a block pair, qh_a | qh_b << 32, as 16 or 0 per byte in the pair arrangement:
 * lo = [A bits 0-15 | B bits 0-15], hi = [A bits 16-31 | B bits 16-31].
 */
static void expand_fifth_bits(uint64_t bits, __m256i * lo, __m256i * hi) {
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

/* Two binary16 values as floats in lanes 0 and 1 (d), or four (d, m or s) for the affine types. */
ALWAYS_INLINE __m128 load_scale_pair(bool affine, const uint8_t * a, const uint8_t * b) {
    if (affine) {
        uint32_t da, db;
        memcpy(&da, a, 4);
        memcpy(&db, b, 4);
        return _mm_cvtph_ps(_mm_unpacklo_epi32(_mm_cvtsi32_si128((int)da), _mm_cvtsi32_si128((int)db)));
    }
    uint16_t da, db;
    memcpy(&da, a, 2);
    memcpy(&db, b, 2);
    return _mm_cvtph_ps(_mm_cvtsi32_si128((int)((uint32_t)da | (uint32_t)db << 16)));
}

/* One activation column's block pair, in the weights' arrangement. */
struct act_pair {
    __m256i lo, hi;
    __m256i offset_pairs; /* offset * (y[2k] + y[2k+1]), int16, matching the dot's pairs */
    __m128 scales;        /* d_A, d_B; or d_A, s_A, d_B, s_B */
};

/* A block pair's activations, prepared once per product by rwkv_prepare_act_pairs. */
ALWAYS_INLINE struct act_pair load_act_pair(const struct rwkv_act_pair * record) {
    struct act_pair x;
    x.lo = _mm256_loadu_si256((const __m256i *)record->lo);
    x.hi = _mm256_loadu_si256((const __m256i *)record->hi);
    x.offset_pairs = _mm256_loadu_si256((const __m256i *)record->offset_pairs);
    x.scales = _mm_loadu_ps(record->scales);
    return x;
}

/* One weight row's block pair: q bytes (unsigned, or signed for Q8_0) and scales. */
struct weight_pair {
    __m256i lo, hi;
    __m128 scales; /* d_A, d_B; or d_A, m_A, d_B, m_B */
};

ALWAYS_INLINE struct weight_pair load_weight_pair(uint32_t type, const uint8_t * a, const uint8_t * b) {
    struct weight_pair w;
    w.scales = load_scale_pair(is_affine(type), a, b);
    if (type == RWKV_TYPE_Q8_0) {
        w.lo = load_halves(a + 2, b + 2);
        w.hi = load_halves(a + 18, b + 18);
        return w;
    }
    const size_t qh = is_affine(type) ? 4 : 2;
    const bool five_bits = type == RWKV_TYPE_Q5_0 || type == RWKV_TYPE_Q5_1;
    const size_t qs = five_bits ? qh + 4 : qh;
    const __m256i low_nibble = _mm256_set1_epi8(0x0f);
    __m256i packed = load_halves(a + qs, b + qs);
    w.lo = _mm256_and_si256(packed, low_nibble);
    w.hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_nibble);
    if (five_bits) {
        uint32_t bits_a, bits_b;
        memcpy(&bits_a, a + qh, 4);
        memcpy(&bits_b, b + qh, 4);
        __m256i fifth_lo, fifth_hi;
        expand_fifth_bits(bits_a | (uint64_t)bits_b << 32, &fifth_lo, &fifth_hi);
        w.lo = _mm256_or_si256(w.lo, fifth_lo);
        w.hi = _mm256_or_si256(w.hi, fifth_hi);
    }
    return w;
}

/* Exact integer dots of a weight pair with an activation pair: lanes 0-3 block A, 4-7 block B. */
ALWAYS_INLINE __m256i pair_dot(uint32_t type, const struct weight_pair * w, const struct act_pair * x) {
    const __m256i ones = _mm256_set1_epi16(1);
    if (type == RWKV_TYPE_Q8_0) {
        /* |w| * (y with w's sign): products up to 127 * 127, so pairs of lo and hi must not be added in int16. */
        __m256i lo = _mm256_maddubs_epi16(_mm256_sign_epi8(w->lo, w->lo), _mm256_sign_epi8(x->lo, w->lo));
        __m256i hi = _mm256_maddubs_epi16(_mm256_sign_epi8(w->hi, w->hi), _mm256_sign_epi8(x->hi, w->hi));
        return _mm256_add_epi32(_mm256_madd_epi16(lo, ones), _mm256_madd_epi16(hi, ones));
    }
    /* q <= 31: each int16 sum below stays under 2 * 2 * 31 * 127 + 2 * 2 * 16 * 127 < 32768. */
    __m256i pairs = _mm256_add_epi16(_mm256_maddubs_epi16(w->lo, x->lo), _mm256_maddubs_epi16(w->hi, x->hi));
    if (weight_offset(type) != 0) {
        pairs = _mm256_sub_epi16(pairs, x->offset_pairs);
    }
    return _mm256_madd_epi16(pairs, ones);
}

/* Adds block pair (b, b + 1) of each row and column to the accumulators; single: b is the row's last block.
   next_rows, if not NULL, is where the n_rows rows after these begin (prefetched as these are read). */
ALWAYS_INLINE void accumulate_pair(uint32_t type, const uint8_t * const rows[], int n_rows, const uint8_t * next_rows,
                                   const uint8_t * act, size_t act_stride, int n_cols, size_t b, bool single,
                                   __m256 acc[][TILE_MAX_COLS], __m128 acc_min[][TILE_MAX_COLS]) {
    const bool affine = is_affine(type);
    const size_t block_bytes = weight_block_bytes(type);
    /* Spreads the pair's two scale products over lanes 0-3 and 4-7. */
    const __m256i spread = affine ? _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2)
                                  : _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    struct act_pair x[TILE_MAX_COLS];
    for (int c = 0; c < n_cols; c++) {
        x[c] = load_act_pair((const struct rwkv_act_pair *)(act + c * act_stride) + b / 2);
    }
    if (next_rows != NULL) {
        /* Two blocks of each of the next rows per step. */
        const char * ahead = (const char *)next_rows + (size_t)n_rows * b * block_bytes;
        for (size_t line = 0; line < (size_t)n_rows * 2 * block_bytes; line += 64) {
            _mm_prefetch(ahead + line, _MM_HINT_T1);
        }
    }
    for (int r = 0; r < n_rows; r++) {
        const uint8_t * wa = rows[r] + b * block_bytes;
        struct weight_pair wp = load_weight_pair(type, wa, single ? ZERO_BLOCK : wa + block_bytes);
        for (int c = 0; c < n_cols; c++) {
            __m256 dots = _mm256_cvtepi32_ps(pair_dot(type, &wp, &x[c]));
            __m128 scales = _mm_mul_ps(wp.scales, x[c].scales);
            __m256 spread_scales = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(scales), spread);
            acc[r][c] = _mm256_fmadd_ps(spread_scales, dots, acc[r][c]);
            if (affine) {
                acc_min[r][c] = _mm_add_ps(acc_min[r][c], scales);
            }
        }
    }
}

/* Rows row, row + row_step, ... (row_step 1 but in decoding's far pairs). */
ALWAYS_INLINE void quant_tile_rows(uint32_t type, const struct rwkv_matrix * w, size_t row, size_t row_step, int n_rows,
                                   const uint8_t * act, size_t act_stride, int n_cols, float * y, size_t y_stride) {
    const size_t n_blocks = w->n_in / RWKV_QK;
    const uint8_t * rows[TILE_MAX_ROWS];
    __m256 acc[TILE_MAX_ROWS][TILE_MAX_COLS];
    __m128 acc_min[TILE_MAX_ROWS][TILE_MAX_COLS]; /* lanes 1 and 3: sums of m_w * s_x */
    for (int r = 0; r < n_rows; r++) {
        rows[r] = w->data + (row + r * row_step) * w->row_bytes;
        for (int c = 0; c < n_cols; c++) {
            acc[r][c] = _mm256_setzero_ps();
            acc_min[r][c] = _mm_setzero_ps();
        }
    }
    /* Sequence mode: the next four rows are contiguous with these; fetch them into L2 as these are
       read, since the hardware prefetchers follow interleaved rows poorly from memory (8 columns
       of 1024 x 65536 Q8_0: 26.3 -> 36.4 GMAC/s, Q5_1: 24.2 -> 31.8). */
    const uint8_t * next_rows = n_rows == TILE_MAX_ROWS && n_cols == TILE_MAX_COLS ? rows[0] + n_rows * w->row_bytes
                                                                                  : NULL;
    size_t b = 0;
    for (; b + 2 <= n_blocks; b += 2) {
        accumulate_pair(type, rows, n_rows, next_rows, act, act_stride, n_cols, b, false, acc, acc_min);
    }
    if (b < n_blocks) {
        accumulate_pair(type, rows, n_rows, next_rows, act, act_stride, n_cols, b, true, acc, acc_min);
    }
    for (int r = 0; r < n_rows; r++) {
        for (int c = 0; c < n_cols; c++) {
            float sum = hsum(acc[r][c]);
            if (is_affine(type)) {
                __m128 m = acc_min[r][c];
                sum += _mm_cvtss_f32(_mm_movehdup_ps(m)) + _mm_cvtss_f32(_mm_shuffle_ps(m, m, 3));
            }
            y[c * y_stride + row + r * row_step] = sum;
        }
    }
}

ALWAYS_INLINE void quant_tile(uint32_t type, const struct rwkv_matrix * w, size_t row, int n_rows, const uint8_t * act,
                              size_t act_stride, int n_cols, float * y, size_t y_stride) {
    quant_tile_rows(type, w, row, 1, n_rows, act, act_stride, n_cols, y, y_stride);
}

/*
 * Decoding quantized rows two per pass, half the slice apart: each activation load serves both,
 * the two dependency chains overlap, and the slice is read as two sequential streams (two
 * neighbouring rows per pass read slower from memory, as on AVX-512: quads_avx512.h).
 */
ALWAYS_INLINE void quant_decode_rows(uint32_t type, const struct rwkv_matrix * w, size_t row_begin, size_t row_end,
                                     const uint8_t * act, float * y) {
    const size_t half = (row_end - row_begin) / 2;
    for (size_t r = row_begin; r < row_begin + half; r++) {
        quant_tile_rows(type, w, r, half, 2, act, 0, 1, y, 0);
    }
    if ((row_end - row_begin) % 2 != 0) {
        quant_tile(type, w, row_end - 1, 1, act, 0, 1, y, 0);
    }
}

/* ---- Tiling ----------------------------------------------------------------------------------- */

typedef void (*tile_fn)(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride, float * y,
                        size_t y_stride);

/* One weight type's tiles: 4 rows or 1 row by 2 columns, or 1 row by 1 column. */
struct tile_set {
    tile_fn rows4_cols2, rows1_cols2, rows1_cols1;
};

#define TILE_SET(name, body, type)                                                                               \
    static void name##_4x2(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,    \
                           float * y, size_t y_stride) {                                                         \
        body(type, w, row, 4, act, act_stride, 2, y, y_stride);                                                  \
    }                                                                                                            \
    static void name##_1x2(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,    \
                           float * y, size_t y_stride) {                                                         \
        body(type, w, row, 1, act, act_stride, 2, y, y_stride);                                                  \
    }                                                                                                            \
    static void name##_1x1(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,    \
                           float * y, size_t y_stride) {                                                         \
        body(type, w, row, 1, act, act_stride, 1, y, y_stride);                                                  \
    }                                                                                                            \
    static const struct tile_set name##_tiles = { name##_4x2, name##_1x2, name##_1x1 };

TILE_SET(fp32, float_tile, RWKV_TYPE_FP32)
TILE_SET(fp16, float_tile, RWKV_TYPE_FP16)
TILE_SET(q4_0, quant_tile, RWKV_TYPE_Q4_0)
TILE_SET(q4_1, quant_tile, RWKV_TYPE_Q4_1)
TILE_SET(q5_0, quant_tile, RWKV_TYPE_Q5_0)
TILE_SET(q5_1, quant_tile, RWKV_TYPE_Q5_1)
TILE_SET(q8_0, quant_tile, RWKV_TYPE_Q8_0)

static void quantized_decode(const struct rwkv_matrix * w, size_t row_begin, size_t row_end, const uint8_t * act,
                             float * y) {
    switch (w->type) {
    case RWKV_TYPE_Q4_0: quant_decode_rows(RWKV_TYPE_Q4_0, w, row_begin, row_end, act, y); break;
    case RWKV_TYPE_Q4_1: quant_decode_rows(RWKV_TYPE_Q4_1, w, row_begin, row_end, act, y); break;
    case RWKV_TYPE_Q5_0: quant_decode_rows(RWKV_TYPE_Q5_0, w, row_begin, row_end, act, y); break;
    case RWKV_TYPE_Q5_1: quant_decode_rows(RWKV_TYPE_Q5_1, w, row_begin, row_end, act, y); break;
    case RWKV_TYPE_Q8_0: quant_decode_rows(RWKV_TYPE_Q8_0, w, row_begin, row_end, act, y); break;
    default: break;
    }
}

static const struct tile_set * tiles_for(uint32_t type) {
    switch (type) {
    case RWKV_TYPE_FP32: return &fp32_tiles;
    case RWKV_TYPE_FP16: return &fp16_tiles;
    case RWKV_TYPE_Q4_0: return &q4_0_tiles;
    case RWKV_TYPE_Q4_1: return &q4_1_tiles;
    case RWKV_TYPE_Q5_0: return &q5_0_tiles;
    case RWKV_TYPE_Q5_1: return &q5_1_tiles;
    case RWKV_TYPE_Q8_0: return &q8_0_tiles;
    default: return NULL;
    }
}

static void rows_pass(tile_fn four_rows, tile_fn one_row, const struct rwkv_matrix * w, size_t begin, size_t end,
                      const uint8_t * act, size_t act_stride, float * y, size_t y_stride) {
    size_t r = begin;
    for (; four_rows != NULL && r + 4 <= end; r += 4) {
        four_rows(w, r, act, act_stride, y, y_stride);
    }
    for (; r < end; r++) {
        one_row(w, r, act, act_stride, y, y_stride);
    }
}

static void matmul_avx2(const struct rwkv_matrix * w, const void * act, size_t act_stride, size_t n_cols, float * y,
                        size_t y_stride, size_t row_begin, size_t row_end) {
    const struct tile_set * tiles = tiles_for(w->type);
    if (tiles == NULL) {
        return;
    }
    size_t tile_rows = row_end - row_begin;
    if (n_cols > 1) {
        tile_rows = (TILE_BYTES / (w->row_bytes + 1)) & ~(size_t)3;
        tile_rows = tile_rows < 4 ? 4 : tile_rows;
    }
    for (size_t tile = row_begin; tile < row_end; tile += tile_rows) {
        size_t tile_end = tile + tile_rows < row_end ? tile + tile_rows : row_end;
        size_t c = 0;
        for (; c + 2 <= n_cols; c += 2) {
            rows_pass(tiles->rows4_cols2, tiles->rows1_cols2, w, tile, tile_end, (const uint8_t *)act + c * act_stride,
                      act_stride, y + c * y_stride, y_stride);
        }
        if (c < n_cols && rwkv_type_is_quantized(w->type)) {
            quantized_decode(w, tile, tile_end, (const uint8_t *)act + c * act_stride, y + c * y_stride);
        } else if (c < n_cols && !rwkv_type_is_quantized(w->type) && rwkv_decode_act_outgrows_l1(w)) {
            float_decode_long_rows(w, tile, tile_end, (const float *)((const uint8_t *)act + c * act_stride),
                                   y + c * y_stride);
        } else if (c < n_cols) {
            /* One column (decoding): one row at a time, so the weights stream through memory in
               order, which the hardware prefetchers follow at full speed (interleaving four rows
               of 2048 halved the bandwidth). */
            rows_pass(NULL, tiles->rows1_cols1, w, tile, tile_end, (const uint8_t *)act + c * act_stride, act_stride,
                      y + c * y_stride, y_stride);
        }
    }
}

const struct rwkv_kernels rwkv_kernels_avx2 = {
    .name = "avx2",
    .prepare_act = rwkv_prepare_act_pairs,
    .matmul = matmul_avx2,
    .quantize_row = rwkv_quantize_row_avx2,
};
