/*
 * RWKV v5.1 and v5.2 blocks (architectures.md §5.2): matrix-valued state per head, a fixed decay
 * per channel, GroupNorm over heads; v5.2 adds a SiLU gate. v5.1's per-head bonus and decay were
 * broadcast to channels when the model was loaded, so both versions share this code.
 *
 * State of one layer: ffn_xx (C) | att_xx (C) | H head matrices of S x S (i = key, j = value).
 */
#include <string.h>

#include "forward.h"
#include "ops.h"
#include "wkv.h"

#define LAYER_NORM_EPS 1e-5f
#define GROUP_NORM_EPS 1e-5f

static void time_mix(struct rwkv_compute * compute, uint32_t layer_index, float * x,
                     const struct rwkv_columns * columns) {
    const struct rwkv_model * model = compute->model;
    const struct rwkv_layer * layer = &model->layers[layer_index];
    const size_t n_tokens = columns->n;
    const size_t C = model->n_embed;
    const bool gated = model->arch == RWKV_ARCH_V5_2;
    struct rwkv_scratch * s = &compute->scratch;
    float * xa = s->vectors[0];
    float * xk = s->vectors[1];
    float * xv = s->vectors[2];
    float * xr = s->vectors[3];
    float * xg = s->vectors[4];
    float * k = s->vectors[5];
    float * v = s->vectors[6];
    float * r = s->vectors[7];
    float * g = s->vectors[8];
    float * o = s->vectors[9];
    float * out = s->vectors[10];

    rwkv_layer_norm_rows(compute, x, layer->ln1_weight, layer->ln1_bias, xa, n_tokens, C, LAYER_NORM_EPS);
    const float * mix[4] = { layer->att_mix_k, layer->att_mix_v, layer->att_mix_r, layer->att_mix_g };
    float * mixed[4] = { xk, xv, xr, xg };
    rwkv_shift_lerp(compute, columns, layer_index, C, xa, mix, mixed, gated ? 4 : 3);

    rwkv_matmul(compute, &layer->att_receptance, xr, C, n_tokens, r, C);
    rwkv_matmul(compute, &layer->att_key, xk, C, n_tokens, k, C);
    rwkv_matmul(compute, &layer->att_value, xv, C, n_tokens, v, C);
    if (gated) {
        rwkv_matmul(compute, &layer->att_gate, xg, C, n_tokens, g, C);
        rwkv_activate_rows(compute, RWKV_ACTIVATION_SILU, g, n_tokens, C);
    }

    rwkv_wkv5(compute, columns, layer_index, r, k, v, layer->att_decay, 0, layer->att_bonus, o);

    rwkv_attention_output(compute, layer, GROUP_NORM_EPS, o, gated ? g : NULL, x, out, n_tokens);
}

void rwkv_block_v5(struct rwkv_compute * compute, uint32_t layer, float * x, const struct rwkv_columns * columns) {
    time_mix(compute, layer, x, columns);
    rwkv_channel_mix_gated(compute, layer, x, columns, true);
}
