/*
 * RWKV v6 block (architectures.md §5.3): v5's matrix state with data-dependent token shift and
 * decay. Each token computes its own mixing offsets through a small two-layer LoRA
 * (C -> 5 Dm -> C per slot) and its own decay through another (C -> Dd -> C).
 *
 * State of one layer: ffn_xx (C) | att_xx (C) | H head matrices of S x S (i = key, j = value).
 */
#include <string.h>

#include "forward.h"
#include "ops.h"
#include "wkv.h"

#define LAYER_NORM_EPS 1e-5f
#define GROUP_NORM_EPS 64e-5f

/* Mixing slots in the order of time_maa_w1's outputs and time_maa_w2's slices. */
enum { SLOT_W, SLOT_K, SLOT_V, SLOT_R, SLOT_G, SLOT_COUNT };

/* mixed = xa + sx * (maa + offset), per token. */
struct slot_mix_job {
    float * mixed;
    const float * xa, * sx, * maa, * offset;
    size_t C;
};

static void slot_mix_tokens(void * arg, size_t begin, size_t end) {
    const struct slot_mix_job * job = arg;
    for (size_t t = begin; t < end; t++) {
        for (size_t i = 0; i < job->C; i++) {
            size_t at = t * job->C + i;
            job->mixed[at] = job->xa[at] + job->sx[at] * (job->maa[i] + job->offset[at]);
        }
    }
}

/* w = exp(-exp(d0 + w)), per token. */
struct decay_job {
    float * w;
    const float * d0;
    size_t C;
};

RWKV_VECTOR_CLONES
static void decay_tokens(void * arg, size_t begin, size_t end) {
    const struct decay_job * job = arg;
    for (size_t t = begin; t < end; t++) {
        float * w = job->w + t * job->C;
        for (size_t i = 0; i < job->C; i++) {
            w[i] = rwkv_exp(-rwkv_exp(job->d0[i] + w[i]));
        }
    }
}

static void time_mix(struct rwkv_compute * compute, uint32_t layer_index, float * x,
                     const struct rwkv_columns * columns) {
    const struct rwkv_model * model = compute->model;
    const struct rwkv_layer * layer = &model->layers[layer_index];
    const size_t n_tokens = columns->n;
    const size_t C = model->n_embed;
    const size_t Dm = model->lora_mix;
    const size_t Dd = model->lora_decay;
    struct rwkv_scratch * s = &compute->scratch;
    float * xa = s->vectors[0];
    float * sx = s->vectors[1];
    float * mixed[SLOT_COUNT] = { s->vectors[2], s->vectors[3], s->vectors[4], s->vectors[5], s->vectors[6] };
    float * offset = s->vectors[7];
    float * r = s->vectors[8];
    float * k = s->vectors[9];
    float * v = s->vectors[10];
    float * g = s->vectors[11];
    float * w = s->vectors[12];
    float * o = s->vectors[13];
    float * out = s->vectors[14];
    float * lora = s->hidden[0];
    const float * maa[SLOT_COUNT] = { layer->maa_w, layer->maa_k, layer->maa_v, layer->maa_r, layer->maa_g };

    rwkv_layer_norm_rows(compute, x, layer->ln1_weight, layer->ln1_bias, xa, n_tokens, C, LAYER_NORM_EPS);
    float * xxx = mixed[0]; /* borrowed: the first slot is written only after xxx is consumed */
    for (size_t t = 0; t < n_tokens; t++) {
        const float * cur = xa + t * C;
        const float * prev = rwkv_shift_previous(compute, columns, layer_index, C, xa, t);
        for (size_t i = 0; i < C; i++) {
            sx[t * C + i] = prev[i] - cur[i];
            xxx[t * C + i] = cur[i] + sx[t * C + i] * layer->maa_x[i];
        }
    }
    rwkv_shift_save(compute, columns, layer_index, C, xa);

    /* Data-dependent mixing: tanh(W1 xxx) split into five Dm-wide slots, each mapped back to C. */
    rwkv_matmul(compute, &layer->maa_w1, xxx, C, n_tokens, lora, 5 * Dm);
    rwkv_activate_rows(compute, RWKV_ACTIVATION_TANH, lora, n_tokens, 5 * Dm);
    for (int slot = 0; slot < SLOT_COUNT; slot++) {
        rwkv_matmul(compute, &layer->maa_w2[slot], lora + slot * Dm, 5 * Dm, n_tokens, offset, C);
        struct slot_mix_job job = { mixed[slot], xa, sx, maa[slot], offset, C };
        rwkv_for_tokens(compute, n_tokens, slot_mix_tokens, &job);
    }

    rwkv_matmul(compute, &layer->att_receptance, mixed[SLOT_R], C, n_tokens, r, C);
    rwkv_matmul(compute, &layer->att_key, mixed[SLOT_K], C, n_tokens, k, C);
    rwkv_matmul(compute, &layer->att_value, mixed[SLOT_V], C, n_tokens, v, C);
    rwkv_matmul(compute, &layer->att_gate, mixed[SLOT_G], C, n_tokens, g, C);
    rwkv_activate_rows(compute, RWKV_ACTIVATION_SILU, g, n_tokens, C);

    /* Data-dependent decay: w = exp(-exp(d0 + W2 tanh(W1 xw))). */
    rwkv_matmul(compute, &layer->decay_w1, mixed[SLOT_W], C, n_tokens, lora, Dd);
    rwkv_activate_rows(compute, RWKV_ACTIVATION_TANH, lora, n_tokens, Dd);
    rwkv_matmul(compute, &layer->decay_w2, lora, Dd, n_tokens, w, C);
    struct decay_job decay = { w, layer->att_decay, C };
    rwkv_for_tokens(compute, n_tokens, decay_tokens, &decay);

    rwkv_wkv5(compute, columns, layer_index, r, k, v, w, C, layer->att_bonus, o);

    rwkv_attention_output(compute, layer, GROUP_NORM_EPS, o, g, x, out, n_tokens);
}

void rwkv_block_v6(struct rwkv_compute * compute, uint32_t layer, float * x, const struct rwkv_columns * columns) {
    time_mix(compute, layer, x, columns);
    rwkv_channel_mix_gated(compute, layer, x, columns, false);
}
