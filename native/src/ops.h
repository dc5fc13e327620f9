/*
 * Operations shared by the forward passes: matrix products over the thread pool, normalisations,
 * activations. Matrices and vectors are row-major with one row per token: element (t, i) of a
 * T x n block with stride s is at t * s + i.
 */
#ifndef RWKV_OPS_H
#define RWKV_OPS_H

#include <math.h>
#include <stddef.h>

#include "compute.h"

/* Y = X W^T for n_tokens rows: y[t][o] = sum_i W[o][i] x[t][i]. x_stride/y_stride in floats. */
void rwkv_matmul(struct rwkv_compute * compute, const struct rwkv_matrix * w, const float * x, size_t x_stride,
                 size_t n_tokens, float * y, size_t y_stride);

/* LayerNorm over n values: (x - mean) / sqrt(var + eps) * weight + bias, sums in double like ggml. */
void rwkv_layer_norm(const float * x, const float * weight, const float * bias, float * y, size_t n, float eps);

/* The same normalisation per group of group_size consecutive values, then weight/bias over all. */
void rwkv_group_norm(const float * x, const float * weight, const float * bias, float * y, size_t n_groups,
                     size_t group_size, float eps);

/* Runs rwkv_layer_norm on n_tokens rows of n values (x and y may be the same), tokens shared among
   the pool's threads. */
void rwkv_layer_norm_rows(struct rwkv_compute * compute, const float * x, const float * weight, const float * bias,
                          float * y, size_t n_tokens, size_t n, float eps);

/*
 * Calls fn(arg, begin, end) over ranges covering tokens [0, n_tokens): on the pool's threads in
 * sequence mode, inline for a single token (where the hand-off would cost more than the work).
 * For element-wise work between products, whose tokens are independent: the bits do not change.
 */
typedef void (*rwkv_tokens_fn)(void * arg, size_t begin, size_t end);
void rwkv_for_tokens(struct rwkv_compute * compute, size_t n_tokens, rwkv_tokens_fn fn, void * arg);

static inline float rwkv_sigmoid(float x) {
    return 1.0f / (1.0f + expf(-x));
}

static inline float rwkv_silu(float x) {
    return x / (1.0f + expf(-x));
}

static inline float rwkv_relu_squared(float x) {
    float r = x > 0.0f ? x : 0.0f;
    return r * r;
}

#endif
