/*
 * The WKV recurrences: the per-head matrix states of v5/v6 and v7 (architectures.md §5.2-5.4).
 * Inputs are columns->n x C row-major. Each column updates the H head matrices (S x S floats) at
 * offset 2C of its layer state: in sequence mode the columns share them and run in order; in batch
 * mode each column has its own. Heads are independent and are spread over the thread pool.
 */
#ifndef RWKV_WKV_H
#define RWKV_WKV_H

#include <stddef.h>

#include "compute.h"
#include "forward.h"

/*
 * v4, per channel i, with the history sums aa, bb scaled by exp(-pp) so that nothing overflows:
 *   wkv   = (e^(pp-q) aa + e^(u+k-q) v) / (e^(pp-q) bb + e^(u+k-q)),  q = max(pp, u+k)
 *   aa, bb, pp = e^(pp+w-q') aa + e^(k-q') v,  e^(pp+w-q') bb + e^(k-q'),  q' = max(pp+w, k)
 * r is replaced by sigmoid(r) * wkv. Channels are spread over the thread pool in sequence mode.
 */
void rwkv_wkv4(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer, const float * u,
               const float * w, const float * k, const float * v, float * r);

/*
 * v5.x and v6, with i = key channel and j = value channel of head h:
 *   out[j]  = sum_i r[i] * (u[i] * k[i] * v[j] + S[i][j])
 *   S[i][j] = w[i] * S[i][j] + k[i] * v[j]
 * w_stride: 0 when the decay is the same for every token (v5), C when it is per token (v6).
 */
void rwkv_wkv5(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer, const float * r,
               const float * k, const float * v, const float * w, size_t w_stride, const float * u, float * out);

/*
 * v7 ("generalised delta rule"), with i = value channel and j = key channel:
 *   sa      = sum_j S[i][j] * (-kk[j])
 *   S[i][j] = S[i][j] * w[j] + v[i] * k[j] + sa * kk[j] * a[j]
 *   out[i]  = sum_j S[i][j] * r[j]          (with the updated state)
 */
void rwkv_wkv7(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer, const float * r,
               const float * w, const float * k, const float * v, const float * kk, const float * a, float * out);

/* One token of one v7 head of size S: sixteen state rows at a time where S allows, else row by row.
   Both give the same bits; the tests hold the first to the second. state, out and the inputs are
   separate buffers. */
void rwkv_wkv7_head(size_t S, const float * r, const float * w, const float * k, const float * v, const float * kk,
                    const float * a, float * state, float * out);
void rwkv_wkv7_head_by_rows(size_t S, const float * r, const float * w, const float * k, const float * v,
                            const float * kk, const float * a, float * state, float * out);

#endif
