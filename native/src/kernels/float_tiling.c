/* The walk of float sequence mode over tiles of rows and passes of columns (float_tiling.h). */
#include "float_tiling.h"

/* Weight bytes per row tile of whole rows: well inside L2 with the activations beside it. */
#define FLOAT_TILE_BYTES (64 * 1024)

/* One column pass's share of the next tile: call_bytes from next on for each of the pass's n_calls
   tile calls, each asking for the next slice in order: one sequential stream. Worked out once per
   pass: per call, its three divisions and the stall on their result were 7% of a v4 169M FP16
   prefill. */
struct tile_pass {
    const char * next;
    size_t call_bytes, n_calls;
};

/* Pass `index` of n_passes over rows [begin, end) in n_calls tile calls, whose next tile (as many
   rows, up to row_end) follows. */
static struct tile_pass tile_pass_at(const struct rwkv_matrix * w, size_t begin, size_t end, size_t row_end,
                                     size_t index, size_t n_passes, size_t n_calls) {
    struct tile_pass pass = { NULL, 0, 1 };
    const size_t next_end = end + (end - begin) < row_end ? end + (end - begin) : row_end;
    if (n_passes == 0 || next_end <= end) {
        return pass;
    }
    const size_t lines = ((next_end - end) * w->row_bytes + 63) / 64;
    const size_t first = lines * index / n_passes;
    const size_t pass_bytes = 64 * (lines * (index + 1) / n_passes - first);
    pass.next = (const char *)(w->data + end * w->row_bytes) + 64 * first;
    pass.n_calls = n_calls > 0 ? n_calls : 1;
    pass.call_bytes = (pass_bytes + pass.n_calls - 1) / pass.n_calls;
    return pass;
}

/* Bytes per step of `steps` (>= 1) for the pass's calls. */
static size_t tile_pass_step_bytes(const struct tile_pass * pass, size_t steps) {
    return (pass->call_bytes + steps - 1) / steps;
}

/* Call `call` of the pass's n_calls: its slice, step_bytes at each step (a line can be asked for
   twice; a few bytes past the slice's end are asked for too: prefetches never fault). */
static struct rwkv_tile_prefetch tile_pass_prefetch(const struct tile_pass * pass, size_t call, size_t step_bytes) {
    struct rwkv_tile_prefetch prefetch = RWKV_NO_TILE_PREFETCH;
    if (pass->call_bytes > 0 && call < pass->n_calls) {
        prefetch.next = pass->next + call * pass->call_bytes;
        prefetch.step_bytes = step_bytes;
    }
    return prefetch;
}

static bool sliced(const struct rwkv_matrix * w, size_t n_cols) {
    return w->n_in > RWKV_FLOAT_SLICED_FROM && n_cols >= RWKV_FLOAT_SLICED_MIN_COLS;
}

/* Rows per tile: whole multiples of the tiles' rows. */
static size_t tile_rows_for(const struct rwkv_float_tiles * tiles, const struct rwkv_matrix * w, size_t n_cols) {
    size_t rows = FLOAT_TILE_BYTES / (w->row_bytes + 1);
    if (sliced(w, n_cols)) {
        rows = RWKV_FLOAT_SLICED_TILE_BYTES / w->row_bytes;
        rows = rows > RWKV_FLOAT_SLICED_TILE_ROWS ? RWKV_FLOAT_SLICED_TILE_ROWS : rows;
    }
    rows = rows / tiles->n_rows * tiles->n_rows;
    return rows < tiles->n_rows ? tiles->n_rows : rows;
}

/* One column pass over a tile's rows [begin, end), whole rows or in slices, asking for its share
   of the next tile. partial: room for a sliced tile's sums. */
static void rows_pass(const struct rwkv_float_tiles * tiles, const struct rwkv_matrix * w, size_t begin, size_t end,
                      size_t row_end, size_t pass_index, size_t n_passes, const uint8_t * act, size_t act_stride,
                      float * y, size_t y_stride, float * partial) {
    const size_t n = w->n_in;
    const size_t slice = sliced(w, n_passes * tiles->n_cols) ? RWKV_FLOAT_SLICE : n;
    const size_t n_slices = (n + slice - 1) / slice;
    const size_t calls = ((end - begin) / tiles->n_rows + (end - begin) % tiles->n_rows) * n_slices;
    const struct tile_pass pass = tile_pass_at(w, begin, end, row_end, pass_index, n_passes, calls);
    size_t call = 0;
    if (n_slices == 1) {
        const size_t step_bytes = tile_pass_step_bytes(&pass, n / 16 > 0 ? n / 16 : 1);
        size_t r = begin;
        for (; r + tiles->n_rows <= end; r += tiles->n_rows) {
            const struct rwkv_tile_prefetch prefetch = tile_pass_prefetch(&pass, call++, step_bytes);
            tiles->rows(w, r, act, act_stride, y, y_stride, &prefetch);
        }
        for (; r < end; r++) {
            const struct rwkv_tile_prefetch prefetch = tile_pass_prefetch(&pass, call++, step_bytes);
            tiles->one_row(w, r, act, act_stride, y, y_stride, &prefetch);
        }
        return;
    }
    for (size_t k = 0; k < n; k += slice) {
        const size_t k_end = k + slice < n ? k + slice : n;
        const size_t step_bytes = tile_pass_step_bytes(&pass, (k_end - k) / 16 > 0 ? (k_end - k) / 16 : 1);
        size_t r = begin;
        for (; r + tiles->n_rows <= end; r += tiles->n_rows) {
            const struct rwkv_float_span span = { k, k_end, partial + (r - begin) * tiles->n_cols * 16 };
            const struct rwkv_tile_prefetch prefetch = tile_pass_prefetch(&pass, call++, step_bytes);
            tiles->rows_slice(w, r, act, act_stride, y, y_stride, &prefetch, &span);
        }
        for (; r < end; r++) {
            const struct rwkv_float_span span = { k, k_end, partial + (r - begin) * tiles->n_cols * 16 };
            const struct rwkv_tile_prefetch prefetch = tile_pass_prefetch(&pass, call++, step_bytes);
            tiles->one_row_slice(w, r, act, act_stride, y, y_stride, &prefetch, &span);
        }
    }
}

void rwkv_float_matmul(const struct rwkv_float_tiles * tiles, const struct rwkv_matrix * w, const void * act,
                       size_t act_stride, size_t n_cols, float * y, size_t y_stride, size_t row_begin, size_t row_end) {
    const size_t tile_rows = n_cols > 1 ? tile_rows_for(tiles, w, n_cols) : row_end - row_begin;
    const size_t n_passes = n_cols / tiles->n_cols;
    /* Unaligned accesses only: GCC for Windows does not align the stack beyond 16 bytes. */
    float partial[RWKV_FLOAT_SLICED_TILE_ROWS * RWKV_FLOAT_MAX_TILE_COLS * 16];
    for (size_t tile = row_begin; tile < row_end; tile += tile_rows) {
        const size_t tile_end = tile + tile_rows < row_end ? tile + tile_rows : row_end;
        size_t c = 0;
        for (; c + tiles->n_cols <= n_cols; c += tiles->n_cols) {
            rows_pass(tiles, w, tile, tile_end, row_end, c / tiles->n_cols, n_passes,
                      (const uint8_t *)act + c * act_stride, act_stride, y + c * y_stride, y_stride, partial);
        }
        for (; c < n_cols; c++) {
            /* One column (decoding, or columns left over): the level's decoder. */
            tiles->decode(w, tile, tile_end, (const float *)((const uint8_t *)act + c * act_stride), y + c * y_stride);
        }
    }
}
