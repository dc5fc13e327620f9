/*
 * The WKV recurrences: the per-head matrix states of v5/v6 and v7 (architectures.md §5.2-5.4).
 * Tokens run in order; heads are independent and are spread over the thread pool.
 * Inputs are n_tokens x C row-major; `state` is the layer's H head matrices of S x S floats.
 */
#ifndef RWKV_WKV_H
#define RWKV_WKV_H

#include <stddef.h>

#include "compute.h"

/*
 * v5.x and v6, with i = key channel and j = value channel of head h:
 *   out[j]  = sum_i r[i] * (u[i] * k[i] * v[j] + S[i][j])
 *   S[i][j] = w[i] * S[i][j] + k[i] * v[j]
 * w_stride: 0 when the decay is the same for every token (v5), C when it is per token (v6).
 */
void rwkv_wkv5(struct rwkv_compute * compute, size_t n_tokens, const float * r, const float * k, const float * v,
               const float * w, size_t w_stride, const float * u, float * state, float * out);

/*
 * v7 ("generalised delta rule"), with i = value channel and j = key channel:
 *   sa      = sum_j S[i][j] * (-kk[j])
 *   S[i][j] = S[i][j] * w[j] + v[i] * k[j] + sa * kk[j] * a[j]
 *   out[i]  = sum_j S[i][j] * r[j]          (with the updated state)
 */
void rwkv_wkv7(struct rwkv_compute * compute, size_t n_tokens, const float * r, const float * w, const float * k,
               const float * v, const float * kk, const float * a, float * state, float * out);

#endif
