/*
 * AVX2 + FMA + F16C kernels. Compiled with those flags; called only when dispatch saw them.
 *
 * Decoding is a matrix-vector product per weight matrix, bound by memory bandwidth: two rows half
 * a slice apart at a time against one activation column (blocks of rows in column chunks where
 * float activations outgrow L1). Sequence mode (several columns)
 * walks the rows in tiles small enough to stay in cache while every column passes over them: float
 * weights 2 columns at a time, quantized weights 8, so each loaded (and unpacked) weight vector
 * serves all of them.
 *
 * Bit identity: every output element goes through the same instructions in the same order
 * whatever its tile's rows and columns (the loops below over rows and columns only replicate
 * independent per-element work), so results never depend on n_cols or the row range.
 *
 * Quantized weights use exact integer dots per 32-block (pairs_avx2.h): maddubs multiplies
 * unsigned weight bytes by signed activation bytes into int16 pairs, madd sums those to int32 (or
 * AVX-VNNI's dpbusd does both, in the avx2vnni table). The float work is the AVX-512 level's,
 * lane for lane, on half as many lanes, so the levels give the same bits (test_kernels checks it).
 */
#include <immintrin.h>
#include <string.h>

#include "data_types.h"
#include "float_tiling.h"
#include "kernels.h"
#include "quant_blocks.h"
#include "reduce_avx2.h"

#if defined(_MSC_VER) && !defined(__clang__)
#define ALWAYS_INLINE static __forceinline
#else
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#endif

/* Float tiles: up to 3 rows by 2 columns (12 accumulators, below). */
#define TILE_MAX_ROWS 3
#define TILE_MAX_COLS 2
/* Weight bytes per row tile in sequence mode: well inside L2 with the activations beside it. */
#define TILE_BYTES (64 * 1024)

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
 * per 8 weights: 15 GB/s of FP16); two keep up with memory. A 3 x 2 tile holds 12 accumulators
 * and takes eight elements at a time (two input registers, one weight register live): 3 x 2 reads
 * 5 vectors per 6 multiply-adds where 2 x 2 read 4 per 4 (v7 0.4B FP16, JRWKV_KERNELS=avx2, one
 * thread: prefill 99 -> 111 tok/s, batch-8 74 -> 83; a 4 x 2 tile in two 2 x 2 halves gained
 * nothing from the same loop order). The tile's rows are row_step apart (1 in sequence mode;
 * decoding pairs rows half a slice apart). In sequence mode each call also asks for its share of
 * the next row tile, and sliced calls cover a span of the rows (float_tiling.h).
 */
ALWAYS_INLINE void float_tile_span(uint32_t type, const struct rwkv_matrix * w, size_t row, size_t row_step,
                                   int n_rows, const uint8_t * act, size_t act_stride, int n_cols, float * y,
                                   size_t y_stride, struct rwkv_tile_prefetch prefetch, struct rwkv_float_span span) {
    const size_t n = w->n_in;
    const uint8_t * rows[TILE_MAX_ROWS];
    const float * cols[TILE_MAX_COLS];
    __m256 acc0[TILE_MAX_ROWS][TILE_MAX_COLS], acc1[TILE_MAX_ROWS][TILE_MAX_COLS];
    const bool resume = span.partial != NULL && span.begin > 0;
    for (int r = 0; r < n_rows; r++) {
        rows[r] = w->data + (row + r * row_step) * w->row_bytes;
        for (int c = 0; c < n_cols; c++) {
            acc0[r][c] = _mm256_setzero_ps();
            acc1[r][c] = _mm256_setzero_ps();
            if (resume) {
                const float * sums = span.partial + (r * TILE_MAX_COLS + c) * 16;
                acc0[r][c] = _mm256_loadu_ps(sums);
                acc1[r][c] = _mm256_loadu_ps(sums + 8);
            }
        }
    }
    for (int c = 0; c < n_cols; c++) {
        cols[c] = (const float *)(act + c * act_stride);
    }
    const size_t element_bytes = type == RWKV_TYPE_FP16 ? 2 : 4;
    size_t i = span.begin;
    for (; i + 16 <= span.end; i += 16) {
        rwkv_tile_prefetch_step(&prefetch);
        if (n_cols == 1) {
            rwkv_tile_prefetch_rows(&prefetch, rows, n_rows, i * element_bytes);
        }
        /* Elements i..i+7 into the first accumulators, then i+8..i+15 into the second: one
           eighth of the inputs per column live at a time. */
        __m256 x[TILE_MAX_COLS];
        for (int c = 0; c < n_cols; c++) {
            x[c] = _mm256_loadu_ps(cols[c] + i);
            if (n_rows > 1) {
                IN_REGISTER(x[c]);
            }
        }
        for (int r = 0; r < n_rows; r++) {
            __m256 wv = load_weights(type, rows[r], i);
            for (int c = 0; c < n_cols; c++) {
                acc0[r][c] = _mm256_fmadd_ps(wv, x[c], acc0[r][c]);
            }
        }
        for (int c = 0; c < n_cols; c++) {
            x[c] = _mm256_loadu_ps(cols[c] + i + 8);
            if (n_rows > 1) {
                IN_REGISTER(x[c]);
            }
        }
        for (int r = 0; r < n_rows; r++) {
            __m256 wv = load_weights(type, rows[r], i + 8);
            for (int c = 0; c < n_cols; c++) {
                acc1[r][c] = _mm256_fmadd_ps(wv, x[c], acc1[r][c]);
            }
        }
    }
    if (span.partial != NULL && span.end < n) {
        for (int r = 0; r < n_rows; r++) {
            for (int c = 0; c < n_cols; c++) {
                float * sums = span.partial + (r * TILE_MAX_COLS + c) * 16;
                _mm256_storeu_ps(sums, acc0[r][c]);
                _mm256_storeu_ps(sums + 8, acc1[r][c]);
            }
        }
        return;
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
            y[c * y_stride + row + r * row_step] = horizontal_sum(_mm256_add_ps(acc0[r][c], acc1[r][c]));
        }
    }
}

/* Whole rows. */
ALWAYS_INLINE void float_tile_rows(uint32_t type, const struct rwkv_matrix * w, size_t row, size_t row_step,
                                   int n_rows, const uint8_t * act, size_t act_stride, int n_cols, float * y,
                                   size_t y_stride, struct rwkv_tile_prefetch prefetch) {
    const struct rwkv_float_span whole = { 0, w->n_in, NULL };
    float_tile_span(type, w, row, row_step, n_rows, act, act_stride, n_cols, y, y_stride, prefetch, whole);
}

ALWAYS_INLINE void float_tile(uint32_t type, const struct rwkv_matrix * w, size_t row, int n_rows,
                              const uint8_t * act, size_t act_stride, int n_cols, float * y, size_t y_stride) {
    float_tile_rows(type, w, row, 1, n_rows, act, act_stride, n_cols, y, y_stride, RWKV_NO_TILE_PREFETCH);
}

/*
 * Decoding rows whose float activations outgrow L1, in blocks (kernels.h). Chunks are whole
 * multiples of 16 elements, so every element meets the same accumulator and the same
 * instructions as in float_tile; each row's two accumulators wait in a buffer between chunks.
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
                /* Only the last chunk has a remainder: float_tile's tail. */
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
            y[r] = horizontal_sum(_mm256_add_ps(partial0[r - block.begin], partial1[r - block.begin]));
        }
    }
}

/*
 * Decoding rows whose activations fit L1: two rows per pass, half the range apart, each summed as
 * every tile sums one row and one column, so the bits are the same. Two sequential streams keep
 * more reads in flight than one (kernels_avx512.c has the numbers), and both are prefetched
 * ahead (rwkv_decode_tile_prefetch). FP16 rows of 3072-4096 inputs keep 2 KiB here: AVX-512's
 * 4 KiB for them made decoding v7 0.4B FP16 3-9% slower at this level.
 */
ALWAYS_INLINE void float_decode_rows(uint32_t type, const struct rwkv_matrix * w, size_t row_begin, size_t row_end,
                                     const float * x, float * y) {
    const size_t half = (row_end - row_begin) / 2;
    for (size_t r = row_begin; r < row_begin + half; r++) {
        float_tile_rows(type, w, r, half, 2, (const uint8_t *)x, 0, 1, y, 0, rwkv_decode_tile_prefetch(type));
    }
    if ((row_end - row_begin) % 2 != 0) {
        float_tile(type, w, row_end - 1, 1, (const uint8_t *)x, 0, 1, y, 0);
    }
}

/* One column (decoding): rows in pairs, or in chunked blocks where the activations outgrow L1. */
static void float_decode(const struct rwkv_matrix * w, size_t row_begin, size_t row_end, const float * x, float * y) {
    const bool chunked = rwkv_decode_act_outgrows_l1(w);
    if (w->type == RWKV_TYPE_FP16 && chunked) {
        float_decode_chunked(RWKV_TYPE_FP16, w, row_begin, row_end, x, y);
    } else if (w->type == RWKV_TYPE_FP16) {
        float_decode_rows(RWKV_TYPE_FP16, w, row_begin, row_end, x, y);
    } else if (chunked) {
        float_decode_chunked(RWKV_TYPE_FP32, w, row_begin, row_end, x, y);
    } else {
        float_decode_rows(RWKV_TYPE_FP32, w, row_begin, row_end, x, y);
    }
}

/* ---- Quantized weights ----------------------------------------------------------------------- */

#define PAIR_DOT_VNNI 0
#include "pairs_avx2.h"

#ifdef RWKV_HAVE_AVX2_VNNI_KERNELS
/* The same tiles with AVX-VNNI dot products (kernels_avx2_vnni.c). */
const struct quant_tiles * rwkv_avx2_vnni_quant_tiles(uint32_t type);
#endif

/*
 * Sequence mode: tiles of rows whose weights stay in L2 while each QUANT_COLS columns pass over
 * them; columns left over are decoded one at a time, with the same per-element arithmetic. Long
 * rows (eight groups, 4096 inputs, or more) go in slices of four groups across a tile's rows, so
 * that a slice's activations for QUANT_COLS columns (8 x 4 x 704 bytes read) stay in L1 while the
 * weights stream past; whole rows of 4096 read them from L2 for every row.
 */
#define SLICE_MAX_GROUPS 4
#define SLICE_MIN_ROW_GROUPS 8
/* Rows of a sliced tile, whose partial sums wait on the stack: 64 x 512 bytes. */
#define SLICED_TILE_ROWS 64

/* A batch of QUANT_COLS sessions: whole rows in two streams half the range apart, as in
   kernels_avx512.c (each row is read once; one stream left the products waiting on memory). */
static void quantized_batch_rows(const struct quant_tiles * tiles, const struct rwkv_matrix * w, const uint8_t * act,
                                 size_t act_stride, float * y, size_t y_stride, size_t row_begin, size_t row_end) {
    const size_t n = row_end - row_begin, half = (n + 1) / 2, n_groups = row_groups(w);
    for (size_t i = 0; i < half; i++) {
        tiles->many_cols(w, row_begin + i, act, act_stride, 0, n_groups, NULL, y, y_stride);
        if (half + i < n) {
            tiles->many_cols(w, row_begin + half + i, act, act_stride, 0, n_groups, NULL, y, y_stride);
        }
    }
}

static void quantized_matmul(const struct quant_tiles * tiles, const struct rwkv_matrix * w, const uint8_t * act,
                             size_t act_stride, size_t n_cols, float * y, size_t y_stride, size_t row_begin,
                             size_t row_end) {
    if (n_cols == 1) {
        tiles->decode_rows(w, row_begin, row_end, act, y);
        return;
    }
    if (n_cols == QUANT_COLS) {
        quantized_batch_rows(tiles, w, act, act_stride, y, y_stride, row_begin, row_end);
        return;
    }
    size_t tile_rows = TILE_BYTES / (w->row_bytes + 1);
    tile_rows = tile_rows < 1 ? 1 : tile_rows;
    const size_t n_groups = row_groups(w);
    const size_t slice_groups = n_groups < SLICE_MIN_ROW_GROUPS ? n_groups : SLICE_MAX_GROUPS;
    float partial[SLICED_TILE_ROWS][QUANT_COLS * 16];
    if (slice_groups < n_groups && tile_rows > SLICED_TILE_ROWS) {
        tile_rows = SLICED_TILE_ROWS;
    }
    for (size_t tile = row_begin; tile < row_end; tile += tile_rows) {
        const size_t tile_end = tile + tile_rows < row_end ? tile + tile_rows : row_end;
        size_t c = 0;
        for (; c + QUANT_COLS <= n_cols; c += QUANT_COLS) {
            for (size_t g = 0; g < n_groups; g += slice_groups) {
                const size_t g_end = g + slice_groups < n_groups ? g + slice_groups : n_groups;
                for (size_t r = tile; r < tile_end; r++) {
                    tiles->many_cols(w, r, act + c * act_stride, act_stride, g, g_end,
                                     slice_groups < n_groups ? partial[r - tile] : NULL, y + c * y_stride, y_stride);
                }
            }
        }
        for (; c < n_cols; c++) {
            tiles->decode_rows(w, tile, tile_end, act + c * act_stride, y + c * y_stride);
        }
    }
}

/* ---- Tiling ----------------------------------------------------------------------------------- */

#define FLOAT_TILES(name, type)                                                                                        \
    static void name##_3x2(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,           \
                           float * y, size_t y_stride, const struct rwkv_tile_prefetch * prefetch) {                   \
        float_tile_rows(type, w, row, 1, TILE_MAX_ROWS, act, act_stride, 2, y, y_stride, *prefetch);                   \
    }                                                                                                                  \
    static void name##_1x2(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,           \
                           float * y, size_t y_stride, const struct rwkv_tile_prefetch * prefetch) {                   \
        float_tile_rows(type, w, row, 1, 1, act, act_stride, 2, y, y_stride, *prefetch);                               \
    }                                                                                                                  \
    static void name##_3x2_slice(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,     \
                                 float * y, size_t y_stride, const struct rwkv_tile_prefetch * prefetch,               \
                                 const struct rwkv_float_span * span) {                                                \
        float_tile_span(type, w, row, 1, TILE_MAX_ROWS, act, act_stride, 2, y, y_stride, *prefetch, *span);            \
    }                                                                                                                  \
    static void name##_1x2_slice(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,     \
                                 float * y, size_t y_stride, const struct rwkv_tile_prefetch * prefetch,               \
                                 const struct rwkv_float_span * span) {                                                \
        float_tile_span(type, w, row, 1, 1, act, act_stride, 2, y, y_stride, *prefetch, *span);                        \
    }                                                                                                                  \
    static const struct rwkv_float_tiles name##_tiles = { name##_3x2,       name##_1x2,   name##_3x2_slice,            \
                                                          name##_1x2_slice, float_decode, TILE_MAX_ROWS,               \
                                                          TILE_MAX_COLS };

_Static_assert(TILE_MAX_COLS <= RWKV_FLOAT_MAX_TILE_COLS, "float_tiling.c sizes its partial sums for these tiles");
FLOAT_TILES(fp32, RWKV_TYPE_FP32)
FLOAT_TILES(fp16, RWKV_TYPE_FP16)

static const struct rwkv_float_tiles * tiles_for(uint32_t type) {
    switch (type) {
    case RWKV_TYPE_FP32: return &fp32_tiles;
    case RWKV_TYPE_FP16: return &fp16_tiles;
    default: return NULL;
    }
}

static void float_matmul(const struct rwkv_matrix * w, const void * act, size_t act_stride, size_t n_cols, float * y,
                         size_t y_stride, size_t row_begin, size_t row_end) {
    const struct rwkv_float_tiles * tiles = tiles_for(w->type);
    if (tiles != NULL) {
        rwkv_float_matmul(tiles, w, act, act_stride, n_cols, y, y_stride, row_begin, row_end);
    }
}

static void matmul_avx2(const struct rwkv_matrix * w, const void * act, size_t act_stride, size_t n_cols, float * y,
                        size_t y_stride, size_t row_begin, size_t row_end) {
    const struct quant_tiles * quant_tiles = quant_tiles_for(w->type);
    if (quant_tiles != NULL) {
        quantized_matmul(quant_tiles, w, act, act_stride, n_cols, y, y_stride, row_begin, row_end);
    } else {
        float_matmul(w, act, act_stride, n_cols, y, y_stride, row_begin, row_end);
    }
}

const struct rwkv_kernels rwkv_kernels_avx2 = {
    .name = "avx2",
    .prepare_act = rwkv_prepare_act_groups_avx2,
    .matmul = matmul_avx2,
    .quantize_row = rwkv_quantize_row_avx2,
};

#ifdef RWKV_HAVE_AVX2_VNNI_KERNELS
static void matmul_avx2_vnni(const struct rwkv_matrix * w, const void * act, size_t act_stride, size_t n_cols,
                             float * y, size_t y_stride, size_t row_begin, size_t row_end) {
    const struct quant_tiles * quant_tiles = rwkv_avx2_vnni_quant_tiles(w->type);
    if (quant_tiles != NULL) {
        quantized_matmul(quant_tiles, w, act, act_stride, n_cols, y, y_stride, row_begin, row_end);
    } else {
        float_matmul(w, act, act_stride, n_cols, y, y_stride, row_begin, row_end);
    }
}

/* The same, with AVX-VNNI dot products for quantized weights (same results, fewer instructions):
   Intel's cores from Alder Lake on, which have no AVX-512, and AMD's from Zen 5. */
const struct rwkv_kernels rwkv_kernels_avx2vnni = {
    .name = "avx2vnni",
    .prepare_act = rwkv_prepare_act_groups_avx2,
    .matmul = matmul_avx2_vnni,
    .quantize_row = rwkv_quantize_row_avx2,
};
#endif
