#include "wkv.h"
#include <math.h>

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

static void wkv5_task(void * arg, uint32_t thread_index, uint32_t n_threads) {
    const struct wkv_job * job = arg;
    const size_t H = job->model->n_head, S = job->model->head_size, C = job->model->n_embed;
    uint64_t first, last;
    rwkv_split_range(H, 1, thread_index, n_threads, &first, &last);
    for (size_t h = first; h < last; h++) {
        for (size_t t = 0; t < job->columns->n; t++) {
            float * heads = head_state(job, t, h);
            const size_t base = t * C + h * S;
            const float * r = job->r + base;
            const float * k = job->k + base;
            const float * v = job->v + base;
            const float * w = job->w + t * job->w_stride + h * S;
            const float * u = job->u + h * S;
            float * out = job->out + base;
            for (size_t j = 0; j < S; j++) {
                out[j] = 0.0f;
            }
            for (size_t i = 0; i < S; i++) {
                float * row = heads + i * S;
                const float ri = r[i], ki = k[i], ui = u[i], wi = w[i];
                for (size_t j = 0; j < S; j++) {
                    float kv = ki * v[j];
                    float temp = fmaf(kv, ui, row[j]);
                    out[j] = fmaf(temp, ri, out[j]);
                    row[j] = fmaf(row[j], wi, kv);
                }
            }
        }
    }
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
            float * heads = head_state(job, t, h);
            const size_t base = t * C + h * S;
            const float * r = job->r + base;
            const float * w = job->w + base;
            const float * k = job->k + base;
            const float * v = job->v + base;
            const float * kk = job->kk + base;
            const float * a = job->a + base;
            float * out = job->out + base;
            for (size_t i = 0; i < S; i++) {
                float * row = heads + i * S;
                float sa = 0.0f;
                for (size_t j = 0; j < S; j++) {
                    sa += row[j] * -kk[j];
                }
                float y = 0.0f;
                const float vi = v[i];
                for (size_t j = 0; j < S; j++) {
                    float updated = row[j] * w[j] + vi * k[j] + sa * (kk[j] * a[j]);
                    row[j] = updated;
                    y += updated * r[j];
                }
                out[i] = y;
            }
        }
    }
}

void rwkv_wkv7(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer, const float * r,
               const float * w, const float * k, const float * v, const float * kk, const float * a, float * out) {
    struct wkv_job job = { .model = compute->model, .columns = columns, .layer = layer, .r = r, .k = k, .v = v,
                           .w = w, .kk = kk, .a = a, .out = out };
    rwkv_threadpool_run(compute->pool, wkv7_task, &job);
}
