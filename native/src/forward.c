#include "forward.h"

#include <string.h>

#include "ops.h"
#include "quant_blocks.h"
extern int rwkv_matmul_tag;

#define LAYER_NORM_EPS 1e-5f

static rwkv_block_fn block_function(enum rwkv_architecture arch) {
    switch (arch) {
    case RWKV_ARCH_V4: return rwkv_block_v4;
    case RWKV_ARCH_V5_1:
    case RWKV_ARCH_V5_2: return rwkv_block_v5;
    case RWKV_ARCH_V6: return rwkv_block_v6;
    case RWKV_ARCH_V7: return rwkv_block_v7;
    default: return NULL;
    }
}

static size_t layer_state_len(const struct rwkv_model * model) {
    return model->state_len / model->n_layer;
}

void rwkv_initial_state(const struct rwkv_model * model, float * state) {
    memset(state, 0, model->state_len * sizeof(float));
    if (model->arch == RWKV_ARCH_V4) {
        /* att_pp, the exponent offset of the numerically stable WKV sums, starts at "minus infinity". */
        const size_t C = model->n_embed;
        for (uint32_t layer = 0; layer < model->n_layer; layer++) {
            float * pp = state + layer * layer_state_len(model) + 4 * C;
            for (size_t i = 0; i < C; i++) {
                pp[i] = -1e30f;
            }
        }
    }
}

static void embed(const struct rwkv_model * model, const uint32_t * tokens, size_t n_tokens, float * x) {
    const size_t C = model->n_embed;
    for (size_t t = 0; t < n_tokens; t++) {
        const uint8_t * row = model->emb.data + (size_t)tokens[t] * model->emb.row_bytes;
        rwkv_dequantize_row(model->emb.type, row, C, x + t * C);
        rwkv_layer_norm(x + t * C, model->ln0_weight, model->ln0_bias, x + t * C, C, LAYER_NORM_EPS);
    }
}

void rwkv_forward(struct rwkv_compute * compute, const uint32_t * tokens, size_t n_tokens, float * state,
                  float * logits) {
    const struct rwkv_model * model = compute->model;
    const size_t C = model->n_embed;
    float * x = compute->scratch.x;
    embed(model, tokens, n_tokens, x);

    rwkv_block_fn block = block_function(model->arch);
    for (uint32_t layer = 0; layer < model->n_layer; layer++) {
        block(compute, layer, x, n_tokens, state + layer * layer_state_len(model));
    }

    if (logits != NULL) {
        /* Only the last token's logits are wanted: one row through ln_out and the head. */
        float * last = compute->scratch.head_input;
        rwkv_layer_norm(x + (n_tokens - 1) * C, model->ln_out_weight, model->ln_out_bias, last, C, LAYER_NORM_EPS);
        rwkv_matmul_tag=8; rwkv_matmul(compute, &model->head, last, C, 1, logits, model->n_vocab);
    }
}

void rwkv_channel_mix_gated(struct rwkv_compute * compute, const struct rwkv_layer * layer, float * x,
                            size_t n_tokens, float * ffn_xx, bool mix_is_lerp) {
    const struct rwkv_model * model = compute->model;
    const size_t C = model->n_embed;
    const size_t F = model->ffn_size;
    struct rwkv_scratch * s = &compute->scratch;
    float * xf = s->vectors[0];
    float * xk = s->vectors[1];
    float * xr = s->vectors[2];
    float * r = s->vectors[3];
    float * v = s->vectors[4];
    float * k = s->hidden[0];

    rwkv_layer_norm_rows(x, layer->ln2_weight, layer->ln2_bias, xf, n_tokens, C, LAYER_NORM_EPS);
    for (size_t t = 0; t < n_tokens; t++) {
        const float * cur = xf + t * C;
        const float * prev = rwkv_previous_row(xf, ffn_xx, t, C);
        for (size_t i = 0; i < C; i++) {
            if (mix_is_lerp) {
                /* rwkv.cpp's lerp form: a*m + (b - b*m). */
                xk[t * C + i] = cur[i] * layer->ffn_mix_k[i] + (prev[i] - prev[i] * layer->ffn_mix_k[i]);
                xr[t * C + i] = cur[i] * layer->ffn_mix_r[i] + (prev[i] - prev[i] * layer->ffn_mix_r[i]);
            } else {
                xk[t * C + i] = cur[i] + (prev[i] - cur[i]) * layer->ffn_mix_k[i];
                xr[t * C + i] = cur[i] + (prev[i] - cur[i]) * layer->ffn_mix_r[i];
            }
        }
    }
    memcpy(ffn_xx, xf + (n_tokens - 1) * C, C * sizeof(float));

    rwkv_matmul_tag=4; rwkv_matmul(compute, &layer->ffn_key, xk, C, n_tokens, k, F);
    for (size_t i = 0; i < n_tokens * F; i++) {
        k[i] = rwkv_relu_squared(k[i]);
    }
    rwkv_matmul_tag=5; rwkv_matmul(compute, &layer->ffn_value, k, F, n_tokens, v, C);
    rwkv_matmul_tag=6; rwkv_matmul(compute, &layer->ffn_receptance, xr, C, n_tokens, r, C);
    for (size_t i = 0; i < n_tokens * C; i++) {
        x[i] += rwkv_sigmoid(r[i]) * v[i];
    }
}
