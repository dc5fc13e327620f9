#include "wkv.h"

#include <string.h>

#include "ops.h"

/*
 * The loops below are written over LANES independent partial sums with a fixed final reduction,
 * so compilers vectorize them without reassociating anything: every vector width computes the
 * same bits. The heads' pointers are restrict (state, inputs and output are separate buffers):
 * without it the compiler checked aliasing per row and kept the partial sums in memory (v7's
 * head ran 25% slower, 12.7% of a v7 0.4B prefill). They are multi-versioned (RWKV_VECTOR_CLONES,
 * ops.h).
 */
#define LANES 16

/* One token of v4's WKV for channels [begin, end) (wkv.h); r_io is replaced by sigmoid(r) * wkv. */
RWKV_VECTOR_CLONES
static void wkv4_token(size_t begin, size_t end, const float * restrict u, const float * restrict w,
                       const float * restrict k, const float * restrict v, float * restrict r_io,
                       float * restrict aa, float * restrict bb, float * restrict pp) {
    for (size_t i = begin; i < end; i++) {
        /* Output: weigh the current token by exp(u + k) against the history. */
        float ww = u[i] + k[i];
        float q = pp[i] > ww ? pp[i] : ww;
        float e1 = rwkv_exp(pp[i] - q);
        float e2 = rwkv_exp(ww - q);
        float wkv = (e1 * aa[i] + e2 * v[i]) / (e1 * bb[i] + e2);
        /* Update: decay the history by exp(w), add this token with weight exp(k). */
        ww = pp[i] + w[i];
        q = ww > k[i] ? ww : k[i];
        e1 = rwkv_exp(ww - q);
        e2 = rwkv_exp(k[i] - q);
        aa[i] = e1 * aa[i] + e2 * v[i];
        bb[i] = e1 * bb[i] + e2;
        pp[i] = q;
        r_io[i] = wkv / (1.0f + rwkv_exp(-r_io[i]));
    }
}

struct wkv_job {
    const struct rwkv_model * model;
    const struct rwkv_columns * columns;
    uint32_t layer;
    const float * r, * k, * v, * w, * u, * kk, * a;
    size_t w_stride;
    float * out;
};

/* Head h's state matrix as column t reads and updates it. */
static float * head_state(const struct wkv_job * job, size_t t, size_t h) {
    const struct rwkv_model * model = job->model;
    return rwkv_layer_state(model, job->columns, t, job->layer) + 2 * (size_t)model->n_embed +
           h * model->head_size * model->head_size;
}

#if defined(__GNUC__) || defined(__clang__)
/*
 * v7's head reduces two sums per state row. As arrays they went through the stack and fifteen
 * scalar adds per sum; as vectors the same tree runs on halves in registers: lane l + lane l+8,
 * then l + l+4, then (0 + 2) + (1 + 3), exactly sum_lanes' order.
 */
#define WKV_VECTOR_SUMS 1
/* GCC notes that 64-byte vector arguments pass differently with and without AVX-512; these
   helpers are static and inlined, so no call crosses that boundary. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef float lanes16 __attribute__((vector_size(64)));
typedef float lanes8 __attribute__((vector_size(32)));
typedef float lanes4 __attribute__((vector_size(16)));

static inline lanes16 load_lanes(const float * p) {
    lanes16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store_lanes(float * p, lanes16 v) {
    memcpy(p, &v, sizeof v);
}

static inline float sum_vector_lanes(lanes16 p) {
    const lanes8 s8 = __builtin_shufflevector(p, p, 0, 1, 2, 3, 4, 5, 6, 7) +
                      __builtin_shufflevector(p, p, 8, 9, 10, 11, 12, 13, 14, 15);
    const lanes4 s4 = __builtin_shufflevector(s8, s8, 0, 1, 2, 3) + __builtin_shufflevector(s8, s8, 4, 5, 6, 7);
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}
#else
#define WKV_VECTOR_SUMS 0
#endif

static inline float sum_lanes(const float p[LANES]) {
    float s8[8], s4[4];
    for (int l = 0; l < 8; l++) {
        s8[l] = p[l] + p[l + 8];
    }
    for (int l = 0; l < 4; l++) {
        s4[l] = s8[l] + s8[l + 4];
    }
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

/* One token of one v5/v6 head: the sums run over i, so lanes are simply the value channels j. */
RWKV_VECTOR_CLONES
static void wkv5_head(size_t S, const float * restrict r, const float * restrict k, const float * restrict v,
                      const float * restrict w, const float * restrict u, float * restrict state,
                      float * restrict out) {
    for (size_t j = 0; j < S; j++) {
        out[j] = 0.0f;
    }
    for (size_t i = 0; i < S; i++) {
        float * row = state + i * S;
        const float ri = r[i], ki = k[i], ui = u[i], wi = w[i];
        for (size_t j = 0; j < S; j++) {
            float kv = ki * v[j];
            out[j] += ri * (ui * kv + row[j]);
            row[j] = wi * row[j] + kv;
        }
    }
}

#if WKV_VECTOR_SUMS
/* The widest head the blocked v7 head keeps kk * a on the stack for. */
#define WKV7_BLOCK_MAX_S 256
/* Loops over a block's sixteen rows unroll, so their sums stay in registers rather than arrays. */
#define WKV_UNROLL_ROWS _Pragma("GCC unroll 16")

/* The lane sums of sixteen vectors, each in sum_vector_lanes' order, as one vector: lane n is
   v[n]'s sum. Every step adds halves of two vectors at once, so sixteen sums share the shuffles. */
static inline lanes16 sum_lanes_x16(const lanes16 v[LANES]) {
    lanes16 s8[8], s4[4], s2[2];
    WKV_UNROLL_ROWS
    for (int m = 0; m < 8; m++) {
        /* lanes 0-7: v[2m]'s l + l+8; lanes 8-15: v[2m+1]'s */
        s8[m] = __builtin_shufflevector(v[2 * m], v[2 * m + 1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                __builtin_shufflevector(v[2 * m], v[2 * m + 1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29,
                                        30, 31);
    }
    WKV_UNROLL_ROWS
    for (int m = 0; m < 4; m++) {
        /* lanes 4q..4q+3: v[4m+q]'s l + l+4 */
        s4[m] = __builtin_shufflevector(s8[2 * m], s8[2 * m + 1], 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26,
                                        27) +
                __builtin_shufflevector(s8[2 * m], s8[2 * m + 1], 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30,
                                        31);
    }
    WKV_UNROLL_ROWS
    for (int m = 0; m < 2; m++) {
        /* lanes 2n, 2n+1: v[8m+n]'s 0 + 2 and 1 + 3 */
        s2[m] = __builtin_shufflevector(s4[2 * m], s4[2 * m + 1], 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28,
                                        29) +
                __builtin_shufflevector(s4[2 * m], s4[2 * m + 1], 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30,
                                        31);
    }
    return __builtin_shufflevector(s2[0], s2[1], 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30) +
           __builtin_shufflevector(s2[0], s2[1], 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}

/*
 * One token of one v7 head, sixteen state rows at a time. Each row's two sums are the row-wise
 * head's (same products, same partial sums in the same order, same reduction tree), so the bits
 * are the same; but a block's sixteen dot products are independent chains, and their horizontal
 * sums share shuffles. Row by row, each row waited on its own chain and two horizontal sums.
 * One head of 64 from L1, AVX-512: 980 -> 650 ns; compiled for AVX2: 6400 -> 2260 ns.
 */
static inline __attribute__((always_inline)) void wkv7_head_blocked(size_t S, const float * restrict r,
                                                                     const float * restrict w, const float * restrict k,
                                                                     const float * restrict v, const float * restrict kk,
                                                                     const float * restrict a, float * restrict state,
                                                                     float * restrict out) {
    lanes16 kk_a[WKV7_BLOCK_MAX_S / LANES];
    for (size_t j = 0; j < S; j += LANES) {
        kk_a[j / LANES] = load_lanes(kk + j) * load_lanes(a + j);
    }
    for (size_t i0 = 0; i0 < S; i0 += LANES) {
        float * block = state + i0 * S;
        lanes16 p[LANES], q[LANES];
        WKV_UNROLL_ROWS
        for (int n = 0; n < LANES; n++) {
            p[n] = (lanes16){ 0 };
            q[n] = (lanes16){ 0 };
        }
        for (size_t j = 0; j < S; j += LANES) {
            const lanes16 kk_j = load_lanes(kk + j);
            WKV_UNROLL_ROWS
            for (int n = 0; n < LANES; n++) {
                p[n] += load_lanes(block + n * S + j) * kk_j;
            }
        }
        const lanes16 sa = -sum_lanes_x16(p);
        for (size_t j = 0; j < S; j += LANES) {
            const lanes16 w_j = load_lanes(w + j), k_j = load_lanes(k + j), r_j = load_lanes(r + j);
            WKV_UNROLL_ROWS
            for (int n = 0; n < LANES; n++) {
                const lanes16 updated = load_lanes(block + n * S + j) * w_j + v[i0 + n] * k_j + sa[n] * kk_a[j / LANES];
                store_lanes(block + n * S + j, updated);
                q[n] += updated * r_j;
            }
        }
        store_lanes(out + i0, sum_lanes_x16(q));
    }
}

/* Head size 64 (every released v7 model), its loop bounds known at compile time. */
RWKV_VECTOR_CLONES
static void wkv7_head_64(const float * restrict r, const float * restrict w, const float * restrict k,
                         const float * restrict v, const float * restrict kk, const float * restrict a,
                         float * restrict state, float * restrict out) {
    wkv7_head_blocked(64, r, w, k, v, kk, a, state, out);
}

RWKV_VECTOR_CLONES
static void wkv7_head_any(size_t S, const float * restrict r, const float * restrict w, const float * restrict k,
                          const float * restrict v, const float * restrict kk, const float * restrict a,
                          float * restrict state, float * restrict out) {
    wkv7_head_blocked(S, r, w, k, v, kk, a, state, out);
}
#endif

/* One token of one v7 head, a row at a time; row i of the state is value channel i, its elements
   key channels j. */
RWKV_VECTOR_CLONES
void rwkv_wkv7_head_by_rows(size_t S, const float * restrict r, const float * restrict w, const float * restrict k,
                            const float * restrict v, const float * restrict kk, const float * restrict a,
                            float * restrict state, float * restrict out) {
    for (size_t i = 0; i < S; i++) {
        float * row = state + i * S;
#if WKV_VECTOR_SUMS
        if (S % LANES == 0) {
            lanes16 p = { 0 };
            for (size_t j = 0; j < S; j += LANES) {
                p += load_lanes(row + j) * load_lanes(kk + j);
            }
            const float sa = -sum_vector_lanes(p);
            const float vi = v[i];
            lanes16 q = { 0 };
            for (size_t j = 0; j < S; j += LANES) {
                const lanes16 updated = load_lanes(row + j) * load_lanes(w + j) + vi * load_lanes(k + j) +
                                        sa * (load_lanes(kk + j) * load_lanes(a + j));
                store_lanes(row + j, updated);
                q += updated * load_lanes(r + j);
            }
            out[i] = sum_vector_lanes(q);
            continue;
        }
#endif
        /* sa = sum_j row[j] * -kk[j] (negating the sum is exact). */
        float p[LANES] = { 0 };
        size_t j = 0;
        for (; j + LANES <= S; j += LANES) {
            for (int l = 0; l < LANES; l++) {
                p[l] += row[j + l] * kk[j + l];
            }
        }
        for (int l = 0; j + l < S; l++) {
            p[l] += row[j + l] * kk[j + l];
        }
        const float sa = -sum_lanes(p);
        const float vi = v[i];
        float q[LANES] = { 0 };
        j = 0;
        for (; j + LANES <= S; j += LANES) {
            for (int l = 0; l < LANES; l++) {
                float updated = row[j + l] * w[j + l] + vi * k[j + l] + sa * (kk[j + l] * a[j + l]);
                row[j + l] = updated;
                q[l] += updated * r[j + l];
            }
        }
        for (int l = 0; j + l < S; l++) {
            float updated = row[j + l] * w[j + l] + vi * k[j + l] + sa * (kk[j + l] * a[j + l]);
            row[j + l] = updated;
            q[l] += updated * r[j + l];
        }
        out[i] = sum_lanes(q);
    }
}

void rwkv_wkv7_head(size_t S, const float * r, const float * w, const float * k, const float * v, const float * kk,
                    const float * a, float * state, float * out) {
#if WKV_VECTOR_SUMS
    if (S == 64) {
        wkv7_head_64(r, w, k, v, kk, a, state, out);
        return;
    }
    if (S % LANES == 0 && S <= WKV7_BLOCK_MAX_S) {
        wkv7_head_any(S, r, w, k, v, kk, a, state, out);
        return;
    }
#endif
    rwkv_wkv7_head_by_rows(S, r, w, k, v, kk, a, state, out);
}

static void wkv5_task(void * arg, uint32_t thread_index, uint32_t n_threads) {
    const struct wkv_job * job = arg;
    const size_t H = job->model->n_head, S = job->model->head_size, C = job->model->n_embed;
    uint64_t first, last;
    rwkv_split_range(H, 1, thread_index, n_threads, &first, &last);
    for (size_t h = first; h < last; h++) {
        for (size_t t = 0; t < job->columns->n; t++) {
            const size_t base = t * C + h * S;
            wkv5_head(S, job->r + base, job->k + base, job->v + base, job->w + t * job->w_stride + h * S,
                      job->u + h * S, head_state(job, t, h), job->out + base);
        }
    }
}

/* v4's channels [begin, end), every token in order. */
static void wkv4_channels(void * arg, size_t begin, size_t end) {
    const struct wkv_job * job = arg;
    const size_t C = job->model->n_embed;
    for (size_t t = 0; t < job->columns->n; t++) {
        float * state = rwkv_layer_state(job->model, job->columns, t, job->layer);
        wkv4_token(begin, end, job->u, job->w, job->k + t * C, job->v + t * C, job->out + t * C, state + 2 * C,
                   state + 3 * C, state + 4 * C);
    }
}

void rwkv_wkv4(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer, const float * u,
               const float * w, const float * k, const float * v, float * r) {
    struct wkv_job job = { .model = compute->model, .columns = columns, .layer = layer, .k = k, .v = v, .w = w,
                           .u = u, .out = r };
    rwkv_for_channels(compute, columns->n, compute->model->n_embed, wkv4_channels, &job);
}

void rwkv_wkv5(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer, const float * r,
               const float * k, const float * v, const float * w, size_t w_stride, const float * u, float * out) {
    struct wkv_job job = { .model = compute->model, .columns = columns, .layer = layer, .r = r, .k = k, .v = v,
                           .w = w, .u = u, .w_stride = w_stride, .out = out };
    rwkv_threadpool_run(compute->pool, wkv5_task, &job);
}

static void wkv7_task(void * arg, uint32_t thread_index, uint32_t n_threads) {
    const struct wkv_job * job = arg;
    const size_t H = job->model->n_head, S = job->model->head_size, C = job->model->n_embed;
    uint64_t first, last;
    rwkv_split_range(H, 1, thread_index, n_threads, &first, &last);
    for (size_t h = first; h < last; h++) {
        for (size_t t = 0; t < job->columns->n; t++) {
            const size_t base = t * C + h * S;
            rwkv_wkv7_head(S, job->r + base, job->w + base, job->k + base, job->v + base, job->kk + base,
                           job->a + base, head_state(job, t, h), job->out + base);
        }
    }
}

void rwkv_wkv7(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer, const float * r,
               const float * w, const float * k, const float * v, const float * kk, const float * a, float * out) {
    struct wkv_job job = { .model = compute->model, .columns = columns, .layer = layer, .r = r, .k = k, .v = v,
                           .w = w, .kk = kk, .a = a, .out = out };
    rwkv_threadpool_run(compute->pool, wkv7_task, &job);
}
