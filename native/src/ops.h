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

/* rwkv_matmul that also copies column k of y to the k-th non-NULL of targets[0..n_targets): each
   thread copies the rows it computed while they are still in its cache. (A batch's logits copied
   afterwards by the calling thread alone: 1-2% of a batch step of v7 0.1B or v4 169M.) */
void rwkv_matmul_scatter(struct rwkv_compute * compute, const struct rwkv_matrix * w, const float * x,
                         size_t x_stride, size_t n_tokens, float * y, size_t y_stride, float * const * targets,
                         size_t n_targets);

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
    RWKV_ACTIVATION_SIGMOID,
};

/* x[i] = f(x[i]) over n_tokens rows of n values, rows shared among the pool's threads. */
void rwkv_activate_rows(struct rwkv_compute * compute, enum rwkv_activation f, float * x, size_t n_tokens, size_t n);

/* x[i] += y[i] over n_tokens rows of n values (the residual stream), rows shared among the threads. */
void rwkv_add_rows(struct rwkv_compute * compute, float * x, const float * y, size_t n_tokens, size_t n);

/*
 * e^x in single precision, written so that compilers vectorize it (libm's expf is a call): 2^n
 * with n = round(x / ln 2) goes into the exponent bits, and e^r for the rest, |r| <= ln(2) / 2,
 * is Cephes' degree-7 expansion 1 + r + r^2 P(r). Within 1 ulp of e^x (test_elementwise checks
 * every 256th float of the range); 0 below -87.33 (where e^x leaves the normal range), infinity
 * above 88.37, NaN for NaN.
 */
static inline float rwkv_exp(float x) {
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    /* Rounds to the nearest integer: adding 1.5 * 2^23 leaves no fraction bits. */
    const float round_magic = 12582912.0f;
    float clamped = x < -87.33654f ? -87.33654f : (x > 88.37626f ? 88.37626f : x);
    float n = (clamped * log2e + round_magic) - round_magic;
    float r = (clamped - n * ln2_hi) - n * ln2_lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = (p * (r * r) + r) + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float result = y * scale;
    result = x < -87.33654f ? 0.0f : result;
    return x > 88.37626f ? INFINITY : result;
}

/* Through rwkv_exp rather than libm's expf, so that loops over them vectorize. */
static inline float rwkv_sigmoid(float x) {
    return 1.0f / (1.0f + rwkv_exp(-x));
}

static inline float rwkv_silu(float x) {
    return x / (1.0f + rwkv_exp(-x));
}

/*
 * Element-wise loops between products are also compiled for AVX-512 and AVX2 on ELF x86-64 and
 * chosen at load time (function multi-versioning), since the engine's baseline is SSE2. Every lane
 * does the same float operations in the same order (no reassociation, -ffp-contract=off), so every
 * version gives the same bits.
 */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define RWKV_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RWKV_VECTOR_CLONES
#endif

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
