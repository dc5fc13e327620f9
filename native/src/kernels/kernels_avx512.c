/*
 * AVX-512 (F, BW, VL, DQ) kernels, with BMI2. Compiled with those flags; called only when dispatch saw them.
 *
 * Decoding streams two weight rows at a time, half the thread's rows apart, against the activation
 * column (blocks of rows in column chunks where float activations outgrow L1); sequence mode walks
 * cache-sized row tiles, several columns at a time. Float weights use 4 x 4 tiles of 512-bit
 * accumulators; quantized weights use sixteen-block steps (quads_avx512.h), with VNNI's dot product
 * instruction where the CPU has it (kernels_avx512_vnni.c). Every output element goes through the
 * same instructions whatever its tile's shape, so results never depend on n_cols or the row range.
 */
#include <immintrin.h>
#include <string.h>

#include "data_types.h"
#include "float_tiling.h"
#include "kernels.h"
#include "quant_blocks.h"
#include "reduce_avx512.h"

#define QUAD_DOT_VNNI 0
#include "quads_avx512.h"

/* The same quantized tiles with VNNI dot products (kernels_avx512_vnni.c). */
const struct quad_tiles * rwkv_avx512_vnni_quad_tiles(uint32_t type);

#if defined(_MSC_VER) && !defined(__clang__)
#define ALWAYS_INLINE static __forceinline
#else
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#endif

#define TILE_ROWS 4
/* Columns per sequence-mode tile: 4 x 4 accumulators fit in the 32 vector registers. */
#define SEQ_COLS 4
/* Weight bytes per row tile in sequence mode: well inside L2 with the activations beside it. */
#define TILE_BYTES (64 * 1024)

/* hsum512_x16 (reduce_avx512.h) puts v[4 * r + c] in lane 4 * c + r: a 4 x 4 tile's sums. */
_Static_assert(TILE_ROWS == 4 && SEQ_COLS == 4, "hsum512_x16 reduces a 4 x 4 tile");

/* ---- FP32 and FP16 weights (activations are float32 either way) ---------------------------- */

ALWAYS_INLINE __m512 load_weights(uint32_t type, const uint8_t * row, size_t i) {
    if (type == RWKV_TYPE_FP16) {
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 2 * i)));
    }
    return _mm512_loadu_ps((const float *)(row + 4 * i));
}

/* The lanes of mask (a row's last 1..15 weights), zero elsewhere; masked lanes are never read. */
ALWAYS_INLINE __m512 load_weights_masked(uint32_t type, const uint8_t * row, size_t i, __mmask16 mask) {
    if (type == RWKV_TYPE_FP16) {
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, row + 2 * i));
    }
    return _mm512_maskz_loadu_ps(mask, row + 4 * i);
}

/*
 * One accumulator per element, 16 lanes; tiles of 4 rows give enough independent chains. The
 * tile's rows are row_step apart (1 in sequence mode; decoding pairs rows half a slice apart).
 * In sequence mode each call also asks for its share of the next row tile, and sliced calls cover
 * a span of the rows (float_tiling.h).
 */
ALWAYS_INLINE void float_tile_span(uint32_t type, const struct rwkv_matrix * w, size_t row, size_t row_step, int n_rows,
                                   const uint8_t * act, size_t act_stride, int n_cols, float * y, size_t y_stride,
                                   struct rwkv_tile_prefetch prefetch, struct rwkv_float_span span) {
    const size_t n = w->n_in;
    const uint8_t * rows[TILE_ROWS];
    const float * cols[SEQ_COLS];
    __m512 acc[TILE_ROWS][SEQ_COLS];
    for (int r = 0; r < n_rows; r++) {
        rows[r] = w->data + (row + r * row_step) * w->row_bytes;
        for (int c = 0; c < n_cols; c++) {
            acc[r][c] = span.partial != NULL && span.begin > 0 ? _mm512_loadu_ps(span.partial + (r * SEQ_COLS + c) * 16)
                                                               : _mm512_setzero_ps();
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
        __m512 x[SEQ_COLS];
        for (int c = 0; c < n_cols; c++) {
            x[c] = _mm512_loadu_ps(cols[c] + i);
        }
        for (int r = 0; r < n_rows; r++) {
            __m512 wv = load_weights(type, rows[r], i);
            for (int c = 0; c < n_cols; c++) {
                acc[r][c] = _mm512_fmadd_ps(wv, x[c], acc[r][c]);
            }
        }
    }
    if (span.partial != NULL && span.end < n) {
        for (int r = 0; r < n_rows; r++) {
            for (int c = 0; c < n_cols; c++) {
                _mm512_storeu_ps(span.partial + (r * SEQ_COLS + c) * 16, acc[r][c]);
            }
        }
        return;
    }
    if (i < n) {
        __mmask16 mask = (__mmask16)((1u << (n - i)) - 1);
        __m512 x[SEQ_COLS];
        for (int c = 0; c < n_cols; c++) {
            x[c] = _mm512_maskz_loadu_ps(mask, cols[c] + i);
        }
        for (int r = 0; r < n_rows; r++) {
            __m512 wv = load_weights_masked(type, rows[r], i, mask);
            for (int c = 0; c < n_cols; c++) {
                acc[r][c] = _mm512_fmadd_ps(wv, x[c], acc[r][c]);
            }
        }
    }
    if (n_rows == TILE_ROWS && n_cols == SEQ_COLS && row_step == 1) {
        __m512 v[TILE_ROWS * SEQ_COLS];
        for (int r = 0; r < TILE_ROWS; r++) {
            for (int c = 0; c < SEQ_COLS; c++) {
                v[SEQ_COLS * r + c] = acc[r][c];
            }
        }
        const __m512 sums = hsum512_x16(v);
        _mm_storeu_ps(y + row, _mm512_extractf32x4_ps(sums, 0));
        _mm_storeu_ps(y + y_stride + row, _mm512_extractf32x4_ps(sums, 1));
        _mm_storeu_ps(y + 2 * y_stride + row, _mm512_extractf32x4_ps(sums, 2));
        _mm_storeu_ps(y + 3 * y_stride + row, _mm512_extractf32x4_ps(sums, 3));
        return;
    }
    for (int r = 0; r < n_rows; r++) {
        for (int c = 0; c < n_cols; c++) {
            y[c * y_stride + row + r * row_step] = hsum512(acc[r][c]);
        }
    }
}

/* Whole rows. */
ALWAYS_INLINE void float_tile_rows(uint32_t type, const struct rwkv_matrix * w, size_t row, size_t row_step, int n_rows,
                                   const uint8_t * act, size_t act_stride, int n_cols, float * y, size_t y_stride) {
    const struct rwkv_float_span whole = { 0, w->n_in, NULL };
    float_tile_span(type, w, row, row_step, n_rows, act, act_stride, n_cols, y, y_stride, RWKV_NO_TILE_PREFETCH, whole);
}

ALWAYS_INLINE void float_tile(uint32_t type, const struct rwkv_matrix * w, size_t row, int n_rows, const uint8_t * act,
                              size_t act_stride, int n_cols, float * y, size_t y_stride) {
    float_tile_rows(type, w, row, 1, n_rows, act, act_stride, n_cols, y, y_stride);
}

/*
 * Decoding rows whose float activations outgrow L1, in blocks (kernels.h): one row at a time
 * would reread the whole vector from L2 for every row, and four rows at a time are four streams,
 * which this memory system serves slowly. Each row's accumulator waits in a buffer between chunks
 * and still takes its elements in order, so the bits match the tiles. One matrix from memory
 * (8192 x 16384 FP16, one thread): 10.8 GMAC/s with four rows per pass, 13.3-14.4 in blocks.
 */
ALWAYS_INLINE void float_decode_chunked(uint32_t type, const struct rwkv_matrix * w, size_t row_begin, size_t row_end,
                                        const float * x, float * y) {
    const size_t n = w->n_in;
    /* One prefetched cache line per 64 bytes of weights read: every 32 (FP16) or 16 (FP32) elements. */
    const size_t prefetch_every = 64 / (type == RWKV_TYPE_FP16 ? 2 : 4);
    const size_t block_rows = rwkv_decode_block_rows(w);
    __m512 partial[RWKV_DECODE_BLOCK_MAX_ROWS];
    for (size_t begin = row_begin; begin < row_end; begin += block_rows) {
        struct rwkv_decode_block block = rwkv_decode_block_at(w, begin, block_rows, row_end);
        for (size_t r = 0; r < block.end - block.begin; r++) {
            partial[r] = _mm512_setzero_ps();
        }
        for (size_t chunk = 0; chunk < n; chunk += RWKV_DECODE_CHUNK_ELEMENTS) {
            const size_t chunk_end = chunk + RWKV_DECODE_CHUNK_ELEMENTS < n ? chunk + RWKV_DECODE_CHUNK_ELEMENTS : n;
            for (size_t r = block.begin; r < block.end; r++) {
                const uint8_t * row = w->data + r * w->row_bytes;
                __m512 acc = partial[r - block.begin];
                size_t i = chunk;
                for (; i + 16 <= chunk_end; i += 16) {
                    if (i % prefetch_every == 0 && block.next < block.next_stop) {
                        _mm_prefetch(block.next, _MM_HINT_T1);
                        block.next += 64;
                    }
                    acc = _mm512_fmadd_ps(load_weights(type, row, i), _mm512_loadu_ps(x + i), acc);
                }
                if (i < chunk_end) {
                    const __mmask16 mask = (__mmask16)((1u << (chunk_end - i)) - 1);
                    acc = _mm512_fmadd_ps(load_weights_masked(type, row, i, mask), _mm512_maskz_loadu_ps(mask, x + i),
                                          acc);
                }
                partial[r - block.begin] = acc;
            }
        }
        for (size_t r = block.begin; r < block.end; r++) {
            y[r] = hsum512(partial[r - block.begin]);
        }
    }
}

/*
 * Decoding rows whose activations fit L1: two rows per pass, half the range apart, each summed as
 * every tile sums one row and one column (one accumulator, elements in order), so the bits are
 * the same. Two sequential streams keep more reads in flight than one: over the 65536 x 1024 FP16
 * head, one thread, 13.4 -> 16.4 GB/s where a plain sum of the same bytes read 18-19 (two
 * neighbouring rows per pass read as slowly as one row). Both rows are also prefetched ahead
 * (rwkv_decode_tile_prefetch), FP16 rows of 3072 to 4096 inputs 4 KiB ahead: one 768 MiB matrix
 * of them read at 0.89-0.92 of the probe's rate 2 KiB ahead and 0.96-1.01 4 KiB ahead (rows of
 * 768-2048 or 7168-8192 inputs read 1-10% slower that far ahead). Whole models, two threads / one,
 * in one process alternating: v7 0.4B FP16 (its FFN value rows) +1.2 to +2.3% / +1.1 to +1.9%,
 * v7 0.1B and v4 169M +0.3 to +0.7%.
 */
#define DECODE_FP16_FAR_MIN_INPUTS 3072
#define DECODE_FP16_FAR_MAX_INPUTS 4096
#define DECODE_FP16_FAR_PREFETCH_BYTES 4096

ALWAYS_INLINE void float_decode_rows(uint32_t type, const struct rwkv_matrix * w, size_t row_begin, size_t row_end,
                                     const float * x, float * y) {
    const size_t half = (row_end - row_begin) / 2;
    const struct rwkv_float_span whole = { 0, w->n_in, NULL };
    struct rwkv_tile_prefetch prefetch = rwkv_decode_tile_prefetch(type);
    if (type == RWKV_TYPE_FP16 && w->n_in >= DECODE_FP16_FAR_MIN_INPUTS && w->n_in <= DECODE_FP16_FAR_MAX_INPUTS) {
        prefetch.rows_ahead = DECODE_FP16_FAR_PREFETCH_BYTES;
    }
    for (size_t r = row_begin; r < row_begin + half; r++) {
        float_tile_span(type, w, r, half, 2, (const uint8_t *)x, 0, 1, y, 0, prefetch, whole);
    }
    if ((row_end - row_begin) % 2 != 0) {
        float_tile(type, w, row_end - 1, 1, (const uint8_t *)x, 0, 1, y, 0);
    }
}

/*
 * Batches of eight columns (eight sessions decoding together) whose activations fit L1: two rows
 * half the range apart at a time against all eight columns, 16 accumulators, each weight read
 * once as it streams from memory, with a prefetch RWKV_DECODE_PREFETCH_BYTES ahead in both rows. The
 * 4 x 4 tiles take two passes over each L2 tile of rows instead, the second from L2. Each row and
 * column is still one accumulator taking its elements in order: the tiles' bits. One thread, in
 * one process alternating with the tiles: the 65536 x 1024 FP16 head 47-49 -> 53-55 GMAC/s; batch
 * of 8, v7 0.4B Q5_1 +5.8%, FP16 +13%, v7 0.1B Q5_1 +12.6%. Rows of 2048 (64 KiB of activations)
 * ran 3-6% slower this way, from L2, and in chunks kept in L1 too, one pair per chunk: they go
 * two pairs per chunk (below).
 */
#define BATCH_COLS 8

/* Keeps an activation vector in a register for both rows' FMAs. GCC otherwise folds its load into
   each of them, and the pair's eighteen loads per step, not its sixteen FMAs, set its pace: 256 x
   1024 FP16 (from L2) 64.5 -> 75.9 GMAC/s, 65536 x 1024 (from memory) 56-58 -> 60-64; batch of 8,
   one thread, v7 0.4B FP16 +6.9%, Q5_1 +4.4%. */
#if defined(__GNUC__) || defined(__clang__)
#define IN_REGISTER(v) __asm__("" : "+v"(v))
#else
#define IN_REGISTER(v) ((void)0)
#endif

/*
 * Rows whose eight columns of activations outgrow L1 (the 65536 x 2048 head of the 1.5B models
 * reads 64 KiB of them per row) go two row pairs at a time, in chunks of BATCH_CHUNK elements
 * (8 KiB of activations, read from L2 once for both pairs), each pair's sums waiting in memory
 * between chunks, and each chunk asks for its rows' bytes BATCH_CHUNK_ROWS_AHEAD rows ahead in
 * their stream (the next two pairs) into L2: prefetched into L1 2 KiB ahead, as whole rows are,
 * the four rows' requests held the reads back. The 4 x 4 tiles took these rows before. Batch of
 * 8, one thread, alternating (two runs): v7 1.5B FP16 +8.2 / +9.7% (two threads +7.8%), v6 1.6B
 * FP16 +8.8 / +10.6%, v7 0.4B FP16 +4.0 / +4.2%, v4 169M FP16 +5.0 / +4.7%; the 1.5B Q5_1
 * models, whose FP16 head alone takes this path, -0.2 to +2%.
 */
#define BATCH_CHUNK 256
#define BATCH_CHUNK_ROWS_AHEAD 2

/* Rows row and row + row_step against all eight columns over span's elements, continuing and
   keeping the sums in span.partial (2 x 8 x 16 floats) unless the span starts or ends the row. */
ALWAYS_INLINE void float_batch_pair_span(uint32_t type, const struct rwkv_matrix * w, size_t row, size_t row_step,
                                         const uint8_t * act, size_t act_stride, float * y, size_t y_stride,
                                         struct rwkv_float_span span) {
    const size_t n = w->n_in;
    const uint8_t * rows[2] = { w->data + row * w->row_bytes, w->data + (row + row_step) * w->row_bytes };
    const float * cols[BATCH_COLS];
    __m512 acc[2][BATCH_COLS];
    for (int c = 0; c < BATCH_COLS; c++) {
        cols[c] = (const float *)(act + c * act_stride);
        for (int r = 0; r < 2; r++) {
            const float * sums = span.partial + 16 * (BATCH_COLS * r + c);
            acc[r][c] = span.begin > 0 ? _mm512_loadu_ps(sums) : _mm512_setzero_ps();
        }
    }
    const bool whole = span.begin == 0 && span.end == n;
    const size_t element_bytes = type == RWKV_TYPE_FP16 ? 2 : 4;
    size_t i = span.begin;
    for (; i + 16 <= span.end; i += 16) {
        if (i * element_bytes % 64 == 0) {
            if (whole) {
                _mm_prefetch((const char *)rows[0] + i * element_bytes + RWKV_DECODE_PREFETCH_BYTES, _MM_HINT_T0);
                _mm_prefetch((const char *)rows[1] + i * element_bytes + RWKV_DECODE_PREFETCH_BYTES, _MM_HINT_T0);
            } else {
                const size_t ahead = BATCH_CHUNK_ROWS_AHEAD * w->row_bytes + i * element_bytes;
                _mm_prefetch((const char *)rows[0] + ahead, _MM_HINT_T1);
                _mm_prefetch((const char *)rows[1] + ahead, _MM_HINT_T1);
            }
        }
        const __m512 w0 = load_weights(type, rows[0], i);
        const __m512 w1 = load_weights(type, rows[1], i);
        for (int c = 0; c < BATCH_COLS; c++) {
            __m512 x = _mm512_loadu_ps(cols[c] + i);
            IN_REGISTER(x);
            acc[0][c] = _mm512_fmadd_ps(w0, x, acc[0][c]);
            acc[1][c] = _mm512_fmadd_ps(w1, x, acc[1][c]);
        }
    }
    if (span.end < n) {
        for (int c = 0; c < BATCH_COLS; c++) {
            for (int r = 0; r < 2; r++) {
                _mm512_storeu_ps(span.partial + 16 * (BATCH_COLS * r + c), acc[r][c]);
            }
        }
        return;
    }
    if (i < n) {
        const __mmask16 mask = (__mmask16)((1u << (n - i)) - 1);
        const __m512 w0 = load_weights_masked(type, rows[0], i, mask);
        const __m512 w1 = load_weights_masked(type, rows[1], i, mask);
        for (int c = 0; c < BATCH_COLS; c++) {
            const __m512 x = _mm512_maskz_loadu_ps(mask, cols[c] + i);
            acc[0][c] = _mm512_fmadd_ps(w0, x, acc[0][c]);
            acc[1][c] = _mm512_fmadd_ps(w1, x, acc[1][c]);
        }
    }
    /* hsum512_x16 puts v[4 * r + c] in lane 4 * c + r: here v[k] is row k / 8, column k % 8. */
    __m512 v[16];
    for (int k = 0; k < 16; k++) {
        v[k] = acc[k / BATCH_COLS][k % BATCH_COLS];
    }
    float sums[16];
    _mm512_storeu_ps(sums, hsum512_x16(v));
    for (int k = 0; k < 16; k++) {
        y[(k % BATCH_COLS) * y_stride + row + (k / BATCH_COLS) * row_step] = sums[4 * (k % 4) + k / 4];
    }
}

/*
 * Large matrices (heads, FP16 models' FFNs) whose eight columns of activations fit L1 go three
 * rows at a time, a third of the range apart: three streams keep more of the weights' reads in
 * flight than two, and each activation load serves three FMAs instead of two. Same sums per row
 * and column as the pairs: same bits. 50277 x 768 FP16 from memory, one thread, 8 columns: 5.93 ->
 * 5.63 ms; batch of 8, two threads, alternating: v4 169M Q5_1 (its FP16 head) +3.3 to +4.9%, v4
 * 169M FP16 +5.2%, v7 0.4B FP16 +0.4%, v7 0.1B Q5_1 -0.1%. With every matrix taken this way,
 * batches of v7 0.1B ran 0.8-3.2% slower: its LoRA matrices (32 to 128 rows, or rows of 32 to
 * 128 inputs) stay in pairs. The triple is its own function: folded into float_batch_pair_span
 * as a row count of two or three, batches of FP16 models ran 1.5-4% slower (GCC's code for the
 * shared loop), so the two loops stay side by side.
 */
#define BATCH_TRIPLE_MIN_ROWS 4096
#define BATCH_TRIPLE_MIN_INPUTS 256

/* Rows row, row + row_step and row + 2 row_step against all eight columns, whole rows. */
ALWAYS_INLINE void float_batch_triple(uint32_t type, const struct rwkv_matrix * w, size_t row, size_t row_step,
                                      const uint8_t * act, size_t act_stride, float * y, size_t y_stride) {
    const size_t n = w->n_in;
    const uint8_t * rows[3];
    const float * cols[BATCH_COLS];
    __m512 acc[3][BATCH_COLS];
    __m512 zero = _mm512_setzero_ps();
    __asm__("" : "+v"(zero)); /* no rep stos for the zeros (quad_tile) */
    for (int r = 0; r < 3; r++) {
        rows[r] = w->data + (row + r * row_step) * w->row_bytes;
    }
    for (int c = 0; c < BATCH_COLS; c++) {
        cols[c] = (const float *)(act + c * act_stride);
        for (int r = 0; r < 3; r++) {
            acc[r][c] = zero;
        }
    }
    const size_t element_bytes = type == RWKV_TYPE_FP16 ? 2 : 4;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        if (i * element_bytes % 64 == 0) {
            for (int r = 0; r < 3; r++) {
                _mm_prefetch((const char *)rows[r] + i * element_bytes + RWKV_DECODE_PREFETCH_BYTES, _MM_HINT_T0);
            }
        }
        __m512 weights[3];
        for (int r = 0; r < 3; r++) {
            weights[r] = load_weights(type, rows[r], i);
        }
        for (int c = 0; c < BATCH_COLS; c++) {
            __m512 x = _mm512_loadu_ps(cols[c] + i);
            IN_REGISTER(x);
            for (int r = 0; r < 3; r++) {
                acc[r][c] = _mm512_fmadd_ps(weights[r], x, acc[r][c]);
            }
        }
    }
    if (i < n) {
        const __mmask16 mask = (__mmask16)((1u << (n - i)) - 1);
        __m512 weights[3];
        for (int r = 0; r < 3; r++) {
            weights[r] = load_weights_masked(type, rows[r], i, mask);
        }
        for (int c = 0; c < BATCH_COLS; c++) {
            const __m512 x = _mm512_maskz_loadu_ps(mask, cols[c] + i);
            for (int r = 0; r < 3; r++) {
                acc[r][c] = _mm512_fmadd_ps(weights[r], x, acc[r][c]);
            }
        }
    }
    /* Rows 0 and 1 in one hsum512_x16 (v[k] is row k / 8, column k % 8), then row 2 and eight
       zeros in another; the sum of v[k] lands in lane 4 * (k % 4) + k / 4. */
    float sums[2][16];
    __m512 v[16];
    for (int k = 0; k < 16; k++) {
        v[k] = acc[k / BATCH_COLS][k % BATCH_COLS];
    }
    _mm512_storeu_ps(sums[0], hsum512_x16(v));
    for (int k = 0; k < 16; k++) {
        v[k] = k < BATCH_COLS ? acc[2][k] : zero;
    }
    _mm512_storeu_ps(sums[1], hsum512_x16(v));
    for (int r = 0; r < 3; r++) {
        for (int c = 0; c < BATCH_COLS; c++) {
            const int k = (r % 2) * BATCH_COLS + c;
            y[c * y_stride + row + r * row_step] = sums[r / 2][4 * (k % 4) + k / 4];
        }
    }
}

ALWAYS_INLINE void float_batch_pair(uint32_t type, const struct rwkv_matrix * w, size_t row, size_t row_step,
                                    const uint8_t * act, size_t act_stride, float * y, size_t y_stride) {
    const struct rwkv_float_span whole = { 0, w->n_in, NULL };
    float_batch_pair_span(type, w, row, row_step, act, act_stride, y, y_stride, whole);
}

/* The last of an odd number of rows: the 4 x 4 tile, twice. */
ALWAYS_INLINE void float_batch_last_row(uint32_t type, const struct rwkv_matrix * w, size_t row, const uint8_t * act,
                                        size_t act_stride, float * y, size_t y_stride) {
    for (int c = 0; c < BATCH_COLS; c += SEQ_COLS) {
        float_tile(type, w, row, 1, act + c * act_stride, act_stride, SEQ_COLS, y + c * y_stride, y_stride);
    }
}

ALWAYS_INLINE void float_batch_rows(uint32_t type, const struct rwkv_matrix * w, size_t row_begin, size_t row_end,
                                    const uint8_t * act, size_t act_stride, float * y, size_t y_stride) {
    if (w->n_out >= BATCH_TRIPLE_MIN_ROWS && w->n_in >= BATCH_TRIPLE_MIN_INPUTS && row_end - row_begin >= 3) {
        const size_t third = (row_end - row_begin) / 3;
        for (size_t r = row_begin; r < row_begin + third; r++) {
            float_batch_triple(type, w, r, third, act, act_stride, y, y_stride);
        }
        /* One or two rows left. */
        row_begin += 3 * third;
        if (row_end - row_begin == 2) {
            float_batch_pair(type, w, row_begin, 1, act, act_stride, y, y_stride);
        } else if (row_end - row_begin == 1) {
            float_batch_last_row(type, w, row_begin, act, act_stride, y, y_stride);
        }
        return;
    }
    const size_t half = (row_end - row_begin) / 2;
    for (size_t r = row_begin; r < row_begin + half; r++) {
        float_batch_pair(type, w, r, half, act, act_stride, y, y_stride);
    }
    if ((row_end - row_begin) % 2 != 0) {
        float_batch_last_row(type, w, row_end - 1, act, act_stride, y, y_stride);
    }
}

ALWAYS_INLINE void float_batch_rows_chunked(uint32_t type, const struct rwkv_matrix * w, size_t row_begin,
                                            size_t row_end, const uint8_t * act, size_t act_stride, float * y,
                                            size_t y_stride) {
    const size_t n = w->n_in, half = (row_end - row_begin) / 2;
    /* Unaligned accesses only: GCC for Windows does not align the stack beyond 16 bytes. */
    float partial[2][2 * BATCH_COLS * 16];
    size_t i = 0;
    for (; i + 2 <= half; i += 2) {
        for (size_t k = 0; k < n; k += BATCH_CHUNK) {
            const size_t k_end = k + BATCH_CHUNK < n ? k + BATCH_CHUNK : n;
            for (size_t p = 0; p < 2; p++) {
                const struct rwkv_float_span span = { k, k_end, partial[p] };
                float_batch_pair_span(type, w, row_begin + i + p, half, act, act_stride, y, y_stride, span);
            }
        }
    }
    for (; i < half; i++) {
        float_batch_pair(type, w, row_begin + i, half, act, act_stride, y, y_stride);
    }
    if ((row_end - row_begin) % 2 != 0) {
        float_batch_last_row(type, w, row_end - 1, act, act_stride, y, y_stride);
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

/* ---- Tiling ----------------------------------------------------------------------------------- */

#define FLOAT_TILES(name, type)                                                                                        \
    static void name##_4xn(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,           \
                           float * y, size_t y_stride, const struct rwkv_tile_prefetch * prefetch) {                   \
        const struct rwkv_float_span whole = { 0, w->n_in, NULL };                                                     \
        float_tile_span(type, w, row, 1, TILE_ROWS, act, act_stride, SEQ_COLS, y, y_stride, *prefetch, whole);         \
    }                                                                                                                  \
    static void name##_1xn(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,           \
                           float * y, size_t y_stride, const struct rwkv_tile_prefetch * prefetch) {                   \
        const struct rwkv_float_span whole = { 0, w->n_in, NULL };                                                     \
        float_tile_span(type, w, row, 1, 1, act, act_stride, SEQ_COLS, y, y_stride, *prefetch, whole);                 \
    }                                                                                                                  \
    static void name##_4xn_slice(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,     \
                                 float * y, size_t y_stride, const struct rwkv_tile_prefetch * prefetch,               \
                                 const struct rwkv_float_span * span) {                                                \
        float_tile_span(type, w, row, 1, TILE_ROWS, act, act_stride, SEQ_COLS, y, y_stride, *prefetch, *span);         \
    }                                                                                                                  \
    static void name##_1xn_slice(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,     \
                                 float * y, size_t y_stride, const struct rwkv_tile_prefetch * prefetch,               \
                                 const struct rwkv_float_span * span) {                                                \
        float_tile_span(type, w, row, 1, 1, act, act_stride, SEQ_COLS, y, y_stride, *prefetch, *span);                 \
    }                                                                                                                  \
    static const struct rwkv_float_tiles name##_tiles = { name##_4xn,       name##_1xn,   name##_4xn_slice,            \
                                                          name##_1xn_slice, float_decode, TILE_ROWS,                   \
                                                          SEQ_COLS };

_Static_assert(SEQ_COLS <= RWKV_FLOAT_MAX_TILE_COLS, "float_tiling.c sizes its partial sums for these tiles");
FLOAT_TILES(fp32, RWKV_TYPE_FP32)
FLOAT_TILES(fp16, RWKV_TYPE_FP16)

static const struct rwkv_float_tiles * tiles_for(uint32_t type) {
    switch (type) {
    case RWKV_TYPE_FP32: return &fp32_tiles;
    case RWKV_TYPE_FP16: return &fp16_tiles;
    default: return NULL;
    }
}

/*
 * In prompts, long rows are multiplied in slices of at most four groups (2048 inputs) across a
 * tile's rows, so that the slice's activations for QUAD_COLS columns (8 x 4 x 704 bytes read) stay
 * in L1 while the rows stream past; a whole row of 4096 or more inputs read them from L2 for every
 * row. Rows of up to six groups fit whole. Measured when batches of eight took this path too (one
 * thread, rows of 4096, v7 0.4B's FFN value matrix, Q5_1): 67 -> 84 GMAC/s with packed activations.
 */
#define SLICE_MAX_GROUPS 4
#define SLICE_MIN_ROW_GROUPS 8
/* Rows of a sliced tile, whose partial sums wait on the stack: 64 x 512 bytes. */
#define SLICED_TILE_ROWS 64

static size_t groups_per_slice(size_t n_groups) {
    return n_groups < SLICE_MIN_ROW_GROUPS ? n_groups : SLICE_MAX_GROUPS;
}

/*
 * A batch of QUAD_COLS sessions reuses no weights across column groups, so its rows go whole (no
 * slices: with packed activations a whole row of 4096 no longer lost to them) and in two streams
 * half the range apart, as decoding's pairs do: one stream left the products waiting on memory.
 * Weights flushed from the caches, one thread, eight columns: Q5_1 1024 x 1024 93 -> 82 us,
 * 1024 x 4096 0.43 -> 0.35 ms, Q8_0 2048 x 8192 2.33 -> 2.04 ms. Batch of 8, old and new
 * alternating: v7 0.4B Q5_1 +8.2% (two threads +5.5%), v6 1.6B Q5_1 +7.1%, v7 1.5B Q8_0 +5.0%.
 *
 * Rows of BATCH_GROUPED_FROM groups or more go two neighbouring rows per stream, four rows group
 * by group (quad_batch_rows): a row of 8192 inputs reads 90 KiB of activations, which one row at
 * a time fetched from L2 for every row while its weights streamed in from memory. Cold, one
 * thread: Q5_1 2048 x 8192 1.65 -> 1.29 ms, 2048 x 7168 1.42 -> 1.09, 1024 x 4096 0.33 -> 0.31,
 * 8192 x 2048 1.33 -> 1.29; Q8_0 2048 x 8192 2.02 -> 1.53 (shorter rows lost up to 12%). Batch
 * of 8, alternating, one / two threads: v7 1.5B Q5_1 +7.1 / +8.6%, v5.2 1.5B Q5_1 +7.8 / +7.1%,
 * v6 1.6B Q5_1 +6.6 / +6.9%, v7 1.5B Q8_0 +13.3 / +13.2%, v7 0.4B Q5_1 +2.7 / +0.5%.
 */
#define BATCH_GROUPED_FROM 4

static void quantized_batch_rows(const struct quad_tiles * tiles, const struct rwkv_matrix * w, const uint8_t * act,
                                 size_t act_stride, float * y, size_t y_stride, size_t row_begin, size_t row_end) {
    const size_t n = row_end - row_begin, half = (n + 1) / 2;
    if (quad_row_groups(w) < BATCH_GROUPED_FROM) {
        for (size_t i = 0; i < half; i++) {
            tiles->many_cols(w, row_begin + i, act, act_stride, y, y_stride);
            if (half + i < n) {
                tiles->many_cols(w, row_begin + half + i, act, act_stride, y, y_stride);
            }
        }
        return;
    }
    _Static_assert(QUAD_BATCH_ROWS == 4, "two rows from each stream");
    size_t i = 0;
    for (; i + 2 <= n / 2; i += 2) {
        const size_t rows[4] = { row_begin + i, row_begin + i + 1, row_begin + half + i, row_begin + half + i + 1 };
        tiles->batch_rows(w, rows, 4, act, act_stride, y, y_stride);
    }
    for (; i < half; i++) {
        const size_t rows[2] = { row_begin + i, row_begin + half + i };
        tiles->batch_rows(w, rows, half + i < n ? 2 : 1, act, act_stride, y, y_stride);
    }
}

static void quantized_matmul(const struct quad_tiles * tiles, const struct rwkv_matrix * w, const uint8_t * act,
                             size_t act_stride, size_t n_cols, float * y, size_t y_stride, size_t row_begin,
                             size_t row_end) {
    if (tiles == NULL) {
        return;
    }
    if (n_cols == 1) {
        /* Decoding: rows in order, so the weights stream through memory as the prefetchers expect. */
        tiles->decode_rows(w, row_begin, row_end, act, y);
        return;
    }
    if (n_cols == QUAD_COLS) {
        quantized_batch_rows(tiles, w, act, act_stride, y, y_stride, row_begin, row_end);
        return;
    }
    /* Sequence mode: a cache-sized tile of rows is decoded once per QUAD_COLS columns. */
    size_t tile_rows = TILE_BYTES / (w->row_bytes + 1);
    tile_rows = tile_rows < 1 ? 1 : tile_rows;
    const size_t n_groups = quad_row_groups(w);
    const size_t slice_groups = groups_per_slice(n_groups);
    /* Unaligned accesses only: GCC for Windows does not align the stack beyond 16 bytes. */
    float partial[SLICED_TILE_ROWS][QUAD_COLS * 16];
    if (slice_groups < n_groups && tile_rows > SLICED_TILE_ROWS) {
        tile_rows = SLICED_TILE_ROWS;
    }
    for (size_t tile = row_begin; tile < row_end; tile += tile_rows) {
        size_t tile_end = tile + tile_rows < row_end ? tile + tile_rows : row_end;
        size_t c = 0;
        for (; c + QUAD_COLS <= n_cols; c += QUAD_COLS) {
            if (slice_groups < n_groups) {
                for (size_t g = 0; g < n_groups; g += slice_groups) {
                    const size_t g_end = g + slice_groups < n_groups ? g + slice_groups : n_groups;
                    for (size_t r = tile; r < tile_end; r++) {
                        tiles->many_cols_slice(w, r, act + c * act_stride, act_stride, g, g_end, partial[r - tile],
                                               y + c * y_stride, y_stride);
                    }
                }
                continue;
            }
            for (size_t r = tile; r < tile_end; r++) {
                tiles->many_cols(w, r, act + c * act_stride, act_stride, y + c * y_stride, y_stride);
            }
        }
        for (; c < n_cols; c++) {
            for (size_t r = tile; r < tile_end; r++) {
                tiles->one_col(w, r, act + c * act_stride, act_stride, y + c * y_stride, y_stride);
            }
        }
    }
}

static void float_matmul(const struct rwkv_matrix * w, const void * act, size_t act_stride, size_t n_cols, float * y,
                         size_t y_stride, size_t row_begin, size_t row_end) {
    const struct rwkv_float_tiles * tiles = tiles_for(w->type);
    if (tiles == NULL) {
        return;
    }
    if (n_cols != BATCH_COLS) {
        rwkv_float_matmul(tiles, w, act, act_stride, n_cols, y, y_stride, row_begin, row_end);
        return;
    }
    const bool fit = rwkv_float_acts_fit_l1(w, BATCH_COLS);
    const uint8_t * cols = (const uint8_t *)act;
    if (w->type == RWKV_TYPE_FP16 && fit) {
        float_batch_rows(RWKV_TYPE_FP16, w, row_begin, row_end, cols, act_stride, y, y_stride);
    } else if (w->type == RWKV_TYPE_FP16) {
        float_batch_rows_chunked(RWKV_TYPE_FP16, w, row_begin, row_end, cols, act_stride, y, y_stride);
    } else if (fit) {
        float_batch_rows(RWKV_TYPE_FP32, w, row_begin, row_end, cols, act_stride, y, y_stride);
    } else {
        float_batch_rows_chunked(RWKV_TYPE_FP32, w, row_begin, row_end, cols, act_stride, y, y_stride);
    }
}

static void matmul_avx512(const struct rwkv_matrix * w, const void * act, size_t act_stride, size_t n_cols, float * y,
                          size_t y_stride, size_t row_begin, size_t row_end) {
    if (rwkv_type_is_quantized(w->type)) {
        quantized_matmul(quad_tiles_for(w->type), w, act, act_stride, n_cols, y, y_stride, row_begin, row_end);
    } else {
        float_matmul(w, act, act_stride, n_cols, y, y_stride, row_begin, row_end);
    }
}

static void matmul_avx512_vnni(const struct rwkv_matrix * w, const void * act, size_t act_stride, size_t n_cols,
                               float * y, size_t y_stride, size_t row_begin, size_t row_end) {
    if (rwkv_type_is_quantized(w->type)) {
        quantized_matmul(rwkv_avx512_vnni_quad_tiles(w->type), w, act, act_stride, n_cols, y, y_stride, row_begin,
                         row_end);
    } else {
        float_matmul(w, act, act_stride, n_cols, y, y_stride, row_begin, row_end);
    }
}

const struct rwkv_kernels rwkv_kernels_avx512 = {
    .name = "avx512",
    .prepare_act = rwkv_prepare_act_groups_avx512,
    .matmul = matmul_avx512,
    .quantize_row = rwkv_quantize_row_avx2,
};

/* The same, with VNNI dot products for quantized weights (same results, fewer instructions). */
const struct rwkv_kernels rwkv_kernels_avx512vnni = {
    .name = "avx512vnni",
    .prepare_act = rwkv_prepare_act_groups_avx512,
    .matmul = matmul_avx512_vnni,
    .quantize_row = rwkv_quantize_row_avx2,
};
