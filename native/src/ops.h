/*
 * Operations shared by the forward passes: matrix products over the thread pool, normalisations,
 * activations. Matrices and vectors are row-major with one row per token: element (t, i) of a
 * T x n block with stride s is at t * s + i.
 */
#ifndef RWKV_OPS_H
#define RWKV_OPS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/*
 * The same over channel ranges [begin, end) of n_channels (multiples of 16): for work whose
 * channels are independent but whose tokens are not (a recurrence over the tokens of a column).
 */
void rwkv_for_channels(struct rwkv_compute * compute, size_t n_tokens, size_t n_channels, rwkv_tokens_fn fn,
                       void * arg);

/* The element-wise activations between products. */
enum rwkv_activation {
    RWKV_ACTIVATION_RELU_SQUARED,
    RWKV_ACTIVATION_SILU,
    RWKV_ACTIVATION_TANH,
};

/* x[i] = f(x[i]) over n_tokens rows of n values, rows shared among the pool's threads. */
void rwkv_activate_rows(struct rwkv_compute * compute, enum rwkv_activation f, float * x, size_t n_tokens, size_t n);

/* x[i] += y[i] over n_tokens rows of n values (the residual stream), rows shared among the threads. */
void rwkv_add_rows(struct rwkv_compute * compute, float * x, const float * y, size_t n_tokens, size_t n);

static inline float rwkv_sigmoid(float x) {
    return 1.0f / (1.0f + expf(-x));
}

static inline float rwkv_silu(float x) {
    return x / (1.0f + expf(-x));
}

/* max(x, 0)^2 as a bit mask rather than a branch: a branch mispredicts on half of a product's
   outputs (their signs are a coin toss) and compilers do not vectorize it. NaN gives 0. */
static inline float rwkv_relu_squared(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    bits &= 0u - (uint32_t)(x > 0.0f);
    float r;
    memcpy(&r, &bits, sizeof r);
    return r * r;
}

#endif
