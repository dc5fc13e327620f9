/*
 * RWKV v4 block (architectures.md §5.1, §5.5). Time mixing keeps, per channel, a running weighted
 * sum of values (aa) and of weights (bb), both scaled by exp(-pp) so that nothing overflows.
 *
 * State of one layer: ffn_xx | att_xx | aa | bb | pp, C floats each.
 */
#include <string.h>

#include "forward.h"
#include "ops.h"

#define LAYER_NORM_EPS 1e-5f

struct wkv4_job {
    const struct rwkv_model * model;
    const struct rwkv_columns * columns;
    uint32_t layer;
    const float * u;    /* time_first */
    const float * w;    /* -exp(trained decay) */
    const float * k, * v;
    float * r;          /* in: receptance; out: sigmoid(r) * wkv */
};

/* The WKV recurrence over every token for channels [begin, end): channels are independent. */
static void wkv4_channels(void * arg, size_t begin, size_t end) {
    const struct wkv4_job * job = arg;
    const size_t C = job->model->n_embed;
    const float * u = job->u;
    const float * w = job->w;
    for (size_t t = 0; t < job->columns->n; t++) {
        float * state = rwkv_layer_state(job->model, job->columns, t, job->layer);
        float * aa = state + 2 * C;
        float * bb = state + 3 * C;
        float * pp = state + 4 * C;
        const float * kt = job->k + t * C;
        const float * vt = job->v + t * C;
        float * rt = job->r + t * C;
        for (size_t i = begin; i < end; i++) {
            /* Output: weigh the current token by exp(u + k) against the history. */
            float ww = u[i] + kt[i];
            float q = pp[i] > ww ? pp[i] : ww;
            float e1 = expf(pp[i] - q);
            float e2 = expf(ww - q);
            float wkv = (e1 * aa[i] + e2 * vt[i]) / (e1 * bb[i] + e2);
            /* Update: decay the history by exp(w), add this token with weight exp(k). */
            ww = pp[i] + w[i];
            q = ww > kt[i] ? ww : kt[i];
            e1 = expf(ww - q);
            e2 = expf(kt[i] - q);
            aa[i] = e1 * aa[i] + e2 * vt[i];
            bb[i] = e1 * bb[i] + e2;
            pp[i] = q;
            rt[i] = rwkv_sigmoid(rt[i]) * wkv;
        }
    }
}

static void time_mix(struct rwkv_compute * compute, uint32_t layer_index, float * x,
                     const struct rwkv_columns * columns) {
    const struct rwkv_model * model = compute->model;
    const struct rwkv_layer * layer = &model->layers[layer_index];
    const size_t C = model->n_embed;
    const size_t n = columns->n;
    struct rwkv_scratch * s = &compute->scratch;
    float * xa = s->vectors[0];
    float * xk = s->vectors[1];
    float * xv = s->vectors[2];
    float * xr = s->vectors[3];
    float * k = s->vectors[4];
    float * v = s->vectors[5];
    float * r = s->vectors[6];
    float * out = s->vectors[7];

    rwkv_layer_norm_rows(compute, x, layer->ln1_weight, layer->ln1_bias, xa, n, C, LAYER_NORM_EPS);
    const float * mix[3] = { layer->att_mix_k, layer->att_mix_v, layer->att_mix_r };
    float * mixed[3] = { xk, xv, xr };
    rwkv_shift_lerp(compute, columns, layer_index, C, xa, mix, mixed, 3);

    rwkv_matmul(compute, &layer->att_key, xk, C, n, k, C);
    rwkv_matmul(compute, &layer->att_value, xv, C, n, v, C);
    rwkv_matmul(compute, &layer->att_receptance, xr, C, n, r, C);

    struct wkv4_job job = { model, columns, layer_index, layer->att_bonus, layer->att_decay, k, v, r };
    rwkv_for_channels(compute, n, C, wkv4_channels, &job);

    rwkv_matmul(compute, &layer->att_output, r, C, n, out, C);
    rwkv_add_rows(compute, x, out, n, C);
}

void rwkv_block_v4(struct rwkv_compute * compute, uint32_t layer, float * x, const struct rwkv_columns * columns) {
    time_mix(compute, layer, x, columns);
    rwkv_channel_mix_gated(compute, layer, x, columns, true);
}
