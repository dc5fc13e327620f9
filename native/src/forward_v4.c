/*
 * RWKV v4 block (architectures.md §5.1, §5.5). Time mixing keeps, per channel, a running weighted
 * sum of values (aa) and of weights (bb), both scaled by exp(-pp) so that nothing overflows.
 *
 * State of one layer: ffn_xx | att_xx | aa | bb | pp, C floats each.
 */
#include <string.h>

#include "forward.h"
#include "ops.h"
#include "wkv.h"

#define LAYER_NORM_EPS 1e-5f

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

    rwkv_wkv4(compute, columns, layer_index, layer->att_bonus, layer->att_decay, k, v, r);

    rwkv_matmul(compute, &layer->att_output, r, C, n, out, C);
    rwkv_add_rows(compute, x, out, n, C);
}

void rwkv_block_v4(struct rwkv_compute * compute, uint32_t layer, float * x, const struct rwkv_columns * columns) {
    time_mix(compute, layer, x, columns);
    rwkv_channel_mix_gated(compute, layer, x, columns, true);
}
