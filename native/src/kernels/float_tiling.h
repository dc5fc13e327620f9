/*
 * Sequence mode for float (FP32, FP16) weights, shared by the vector levels: a tile of rows small
 * enough for L2 is multiplied by the columns in passes of a level's tile width, each pass walking
 * the tile in tiles of a few rows (float_tiling.c). The levels supply the tiles; this file holds
 * what the tiles need from the walk: the share of the next row tile each call asks for, and the
 * span of a long row a sliced call covers.
 *
 * The first pass over a tile used to read it from memory while the later ones worked from L2, so
 * memory and arithmetic took turns: eight columns of the 65536 x 1024 FP16 head of v7 0.4B ran at
 * 37 GMAC/s, where the product from L2 runs at 65 and reading the bytes alone would take half the
 * time. Instead every pass asks for its share of the next tile's rows into L2, spread evenly over
 * its steps, so the reads overlap all of the arithmetic: 42-44 GMAC/s there (AVX2: 26 -> 31).
 * Software prefetches are few in flight at once, which is why that is not 65. One thread, old /
 * new engine alternating: v7 0.4B FP16 batch-8 80.4 / 84.6 and 82.7 / 89.2 tok/s, prefill
 * 140.7 / 153.5 and 142.9 / 147.2; v7 1.5B FP16 prefill at two threads 67.9 / 73.3, 69.1 / 75.9.
 *
 * Rows longer than RWKV_FLOAT_SLICED_FROM elements, in products of RWKV_FLOAT_SLICED_MIN_COLS
 * columns or more, are multiplied in slices of RWKV_FLOAT_SLICE, so that a pass's activations
 * stay in L1 while the tile's rows stream past; whole rows read them from L2 at every step. A
 * sliced tile holds up to 512 KiB of rows, which each slice of activations then serves. One
 * thread, 64 columns of FP16, best of five alternating: 4096 x 8192 from memory 39.1-42.0 ->
 * 51.3-51.8 GMAC/s with AVX-512, 32.2 -> 35.3 with AVX2; 4096 x 7168 51.5 -> 53.9 (AVX-512);
 * v7 1.5B FP16 prefill 33.6-33.9 -> 35.2-35.9 tok/s (AVX2: 25.0-25.7 -> 26.1-27.0). Rows of 4096
 * (63.1 -> 61.0) and batches of 8 and 16 columns measured slower sliced.
 */
#ifndef RWKV_FLOAT_TILING_H
#define RWKV_FLOAT_TILING_H

#include "kernels.h"

/*
 * What one tile call asks for: in sequence mode, step_bytes from next on at each of its steps of
 * 16 elements; in decoding (one column), each of the tile's own rows rows_ahead bytes ahead of
 * where it reads (rwkv_decode_tile_prefetch), or 0 for none.
 */
struct rwkv_tile_prefetch {
    const char * next;
    size_t step_bytes;
    size_t rows_ahead;
};

#define RWKV_NO_TILE_PREFETCH ((struct rwkv_tile_prefetch){ NULL, 0, 0 })

/* Decoding's prefetch for a pair of float rows of the given type (kernels.h). */
static inline struct rwkv_tile_prefetch rwkv_decode_tile_prefetch(uint32_t type) {
    const size_t ahead = type == RWKV_TYPE_FP32 ? RWKV_DECODE_FP32_PREFETCH_BYTES : RWKV_DECODE_PREFETCH_BYTES;
    return (struct rwkv_tile_prefetch){ NULL, 0, ahead };
}

/* One step of a tile call. */
static inline void rwkv_tile_prefetch_step(struct rwkv_tile_prefetch * prefetch) {
    for (size_t offset = 0; offset < prefetch->step_bytes; offset += 64) {
        RWKV_PREFETCH_L2(prefetch->next + offset);
    }
    prefetch->next += prefetch->step_bytes;
}

/* Decoding's share of a step: the rows' lines rows_ahead bytes past offset, each line once. */
static inline void rwkv_tile_prefetch_rows(const struct rwkv_tile_prefetch * prefetch, const uint8_t * const * rows,
                                           int n_rows, size_t offset) {
    if (prefetch->rows_ahead != 0 && offset % 64 == 0) {
        for (int r = 0; r < n_rows; r++) {
            RWKV_PREFETCH_L1(rows[r] + offset + prefetch->rows_ahead);
        }
    }
}

#define RWKV_FLOAT_SLICE 2048
#define RWKV_FLOAT_SLICED_FROM 4096
#define RWKV_FLOAT_SLICED_MIN_COLS 16
#define RWKV_FLOAT_SLICED_TILE_ROWS 64
#define RWKV_FLOAT_SLICED_TILE_BYTES ((size_t)512 * 1024)
/* Columns of the widest level's tiles (AVX-512: 4), which the walk's partial sums are sized for. */
#define RWKV_FLOAT_MAX_TILE_COLS 4

/* The elements [begin, end) of a tile's rows. partial holds the tile's sums between slices, 16
   floats per row and column (row r, column c at (r * columns + c) * 16, rows counted from the
   tile call's first): continued from unless begin is 0, kept unless end is the row's end. Each
   element still takes its products in the same order: the same bits as whole rows. */
struct rwkv_float_span {
    size_t begin, end;
    float * partial;
};

/* The prefetch and the span go by address: passed by value, each call's 16-byte copy of them read
   back 8-byte halves just stored, which the store buffer cannot forward (a v4 169M FP16 prefill
   waited 5% of its time on that load). Prompt of 512, separate processes alternating, old / new:
   v7 0.4B FP16 one thread 166-168 -> 176-182 tok/s, two 324-338 -> 339-347; v6 1.6B FP16 42.5-42.8
   -> 43.8-43.9; JRWKV_KERNELS=avx2, v7 0.4B FP16 111 -> 115. */
typedef void (*rwkv_float_tile_fn)(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,
                                   float * y, size_t y_stride, const struct rwkv_tile_prefetch * prefetch);
typedef void (*rwkv_float_slice_fn)(const struct rwkv_matrix * w, size_t row, const uint8_t * act, size_t act_stride,
                                    float * y, size_t y_stride, const struct rwkv_tile_prefetch * prefetch,
                                    const struct rwkv_float_span * span);
/* A level's one-column product of rows [row_begin, row_end) (decoding). */
typedef void (*rwkv_float_decode_fn)(const struct rwkv_matrix * w, size_t row_begin, size_t row_end, const float * x,
                                     float * y);

/* A level's float tiles for one weight type: n_rows x n_cols and 1 x n_cols, of whole rows or of
   slices (separate functions: the slices' bookkeeping cost the whole rows of 64 inputs a quarter). */
struct rwkv_float_tiles {
    rwkv_float_tile_fn rows, one_row;
    rwkv_float_slice_fn rows_slice, one_row_slice;
    rwkv_float_decode_fn decode;
    size_t n_rows, n_cols;
};

/* The kernels' matmul for float weights: tiles of rows, passes of columns, decode for the
   columns left over (and for a single column). */
void rwkv_float_matmul(const struct rwkv_float_tiles * tiles, const struct rwkv_matrix * w, const void * act,
                       size_t act_stride, size_t n_cols, float * y, size_t y_stride, size_t row_begin, size_t row_end);

#endif
