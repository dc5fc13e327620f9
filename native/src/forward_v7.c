/*
 * RWKV v7 block (architectures.md §5.4): the "generalised delta rule". Per token: six mixes of the
 * token shift, LoRA-computed decay w, in-context learning rate a, value residual towards layer 0's
 * value, and an output gate; the head state is corrected towards k before it is read.
 *
 * State of one layer: ffn_xx (C) | att_xx (C) | H head matrices of S x S (i = value, j = key).
 */
#include <math.h>
#include <string.h>

#include "forward.h"
#include "ops.h"
#include "wkv.h"

#define LAYER_NORM_EPS 1e-5f
#define GROUP_NORM_EPS 64e-5f
/* e^-0.5, written as rwkv.cpp writes it: the decay is exp(-e^-0.5 * sigmoid(...)). */
#define DECAY_SCALE 0.606531f
#define L2_NORM_EPS 1e-12f

/* Mixing slots of x_rwkvag, in the order the converter concatenated them. */
enum { MIX_R, MIX_W, MIX_K, MIX_V, MIX_A, MIX_G, MIX_COUNT };

/* Scratch vector holding layer 0's values for the value residual of later layers. */
#define V_FIRST (RWKV_SCRATCH_VECTORS - 1)

/* y = m2 (f(m1 x)) for n_tokens rows, where f is tanh, sigmoid or nothing. */
enum lora_activation { LORA_LINEAR, LORA_TANH, LORA_SIGMOID };

static void lora(struct rwkv_compute * compute, const struct rwkv_matrix * m1, const struct rwkv_matrix * m2,
                 enum lora_activation activation, const float * x, size_t n_tokens, float * y) {
    const size_t C = compute->model->n_embed;
    const size_t D = m1->n_out;
    float * hidden = compute->scratch.hidden[0];
    rwkv_matmul(compute, m1, x, C, n_tokens, hidden, D);
    if (activation == LORA_TANH) {
        rwkv_activate_rows(compute, RWKV_ACTIVATION_TANH, hidden, n_tokens, D);
    } else if (activation == LORA_SIGMOID) {
        rwkv_activate_rows(compute, RWKV_ACTIVATION_SIGMOID, hidden, n_tokens, D);
    }
    rwkv_matmul(compute, m2, hidden, D, n_tokens, y, C);
}

/* What the element-wise passes of time_mix read and write, per token row of C values. */
struct token_job {
    const struct rwkv_layer * layer;
    bool first_layer;
    size_t C, H, S;
    float * r, * w, * k, * v, * a, * g, * kk, * o;
    const float * v_lora, * v_first;
};

/* Decay w, value residual, learning rate a, the key direction kk and k scaled by a. */
RWKV_VECTOR_CLONES
static void decay_values_keys(void * arg, size_t begin, size_t end) {
    const struct token_job * job = arg;
    const struct rwkv_layer * layer = job->layer;
    const size_t C = job->C, H = job->H, S = job->S;
    float * w = job->w, * k = job->k, * v = job->v, * a = job->a, * kk = job->kk;
    for (size_t t = begin; t < end; t++) {
        for (size_t i = 0; i < C; i++) {
            w[t * C + i] = rwkv_exp(-DECAY_SCALE * rwkv_sigmoid(layer->w0[i] + w[t * C + i]));
        }
        if (!job->first_layer) {
            /* Value residual: pull v towards layer 0's value by a learned, token-dependent amount. */
            for (size_t i = 0; i < C; i++) {
                size_t at = t * C + i;
                v[at] = v[at] + (job->v_first[at] - v[at]) * rwkv_sigmoid(layer->v0[i] + job->v_lora[at]);
            }
        }
        for (size_t i = 0; i < C; i++) {
            a[t * C + i] = rwkv_sigmoid(layer->a0[i] + a[t * C + i]);
        }
        /* kk: the key direction to remove from the state (unit length per head); then k scaled by a. */
        for (size_t h = 0; h < H; h++) {
            size_t base = t * C + h * S;
            double sum = 0.0;
            for (size_t j = 0; j < S; j++) {
                float value = k[base + j] * layer->k_k[h * S + j];
                kk[base + j] = value;
                sum += (double)value * value;
            }
            float norm = (float)sqrt(sum);
            float scale = 1.0f / (norm > L2_NORM_EPS ? norm : L2_NORM_EPS);
            for (size_t j = 0; j < S; j++) {
                kk[base + j] *= scale;
            }
        }
        for (size_t i = 0; i < C; i++) {
            size_t at = t * C + i;
            k[at] = k[at] * (1.0f + (a[at] - 1.0f) * layer->k_a[i]);
        }
    }
}

/* After the WKV: group norm of the heads' outputs, the r.k bonus, the output gate. */
static void normalize_and_gate(void * arg, size_t begin, size_t end) {
    const struct token_job * job = arg;
    const struct rwkv_layer * layer = job->layer;
    const size_t C = job->C, H = job->H, S = job->S;
    for (size_t t = begin; t < end; t++) {
        float * ot = job->o + t * C;
        rwkv_group_norm(ot, layer->att_ln_x_weight, layer->att_ln_x_bias, ot, H, S, GROUP_NORM_EPS);
        /* Bonus: each head adds its value scaled by the r.k agreement (weighted by r_k). */
        for (size_t h = 0; h < H; h++) {
            size_t base = t * C + h * S;
            float bonus = 0.0f;
            for (size_t j = 0; j < S; j++) {
                bonus += job->r[base + j] * job->k[base + j] * layer->r_k[h * S + j];
            }
            for (size_t j = 0; j < S; j++) {
                ot[h * S + j] += job->v[base + j] * bonus;
            }
        }
        for (size_t i = 0; i < C; i++) {
            ot[i] *= job->g[t * C + i];
        }
    }
}

static void time_mix(struct rwkv_compute * compute, uint32_t layer_index, float * x,
                     const struct rwkv_columns * columns) {
    const struct rwkv_model * model = compute->model;
    const struct rwkv_layer * layer = &model->layers[layer_index];
    const size_t C = model->n_embed;
    const size_t H = model->n_head;
    const size_t S = model->head_size;
    const size_t n_tokens = columns->n;
    struct rwkv_scratch * s = &compute->scratch;
    float * xa = s->vectors[0];
    float * mixed[MIX_COUNT] = { s->vectors[2], s->vectors[3], s->vectors[4], s->vectors[5], s->vectors[6], s->vectors[7] };
    float * r = s->vectors[8];
    float * w = s->vectors[9];
    float * k = s->vectors[10];
    float * v = s->vectors[11];
    float * a = s->vectors[12];
    float * g = s->vectors[13];
    float * kk = s->vectors[14];
    float * o = s->vectors[15];
    float * tmp = s->vectors[16];
    float * v_first = s->vectors[V_FIRST];

    rwkv_layer_norm_rows(compute, x, layer->ln1_weight, layer->ln1_bias, xa, n_tokens, C, LAYER_NORM_EPS);
    /* Six mixes of the token shift, x + (previous - x) * coefficient, tokens shared among the threads. */
    const float * coefficients[MIX_COUNT];
    for (int c = 0; c < MIX_COUNT; c++) {
        coefficients[c] = layer->x_rwkvag + (size_t)c * C;
    }
    rwkv_shift_delta(compute, columns, layer_index, C, xa, coefficients, mixed, MIX_COUNT);

    rwkv_matmul(compute, &layer->att_receptance, mixed[MIX_R], C, n_tokens, r, C);
    rwkv_matmul(compute, &layer->att_key, mixed[MIX_K], C, n_tokens, k, C);
    rwkv_matmul(compute, &layer->att_value, mixed[MIX_V], C, n_tokens, v, C);

    /* The LoRAs first (matrix products, threaded inside), then one element-wise pass per token. */
    lora(compute, &layer->w1, &layer->w2, LORA_TANH, mixed[MIX_W], n_tokens, w);
    if (layer_index == 0) {
        memcpy(v_first, v, n_tokens * C * sizeof(float));
    } else {
        lora(compute, &layer->v1, &layer->v2, LORA_LINEAR, mixed[MIX_V], n_tokens, tmp);
    }
    lora(compute, &layer->a1, &layer->a2, LORA_LINEAR, mixed[MIX_A], n_tokens, a);
    lora(compute, &layer->g1, &layer->g2, LORA_SIGMOID, mixed[MIX_G], n_tokens, g);

    struct token_job job = {
        .layer = layer, .first_layer = layer_index == 0, .C = C, .H = H, .S = S,
        .r = r, .w = w, .k = k, .v = v, .a = a, .g = g, .kk = kk, .o = o, .v_lora = tmp, .v_first = v_first,
    };
    rwkv_for_tokens(compute, n_tokens, decay_values_keys, &job);
    rwkv_wkv7(compute, columns, layer_index, r, w, k, v, kk, a, o);
    rwkv_for_tokens(compute, n_tokens, normalize_and_gate, &job);
    rwkv_matmul(compute, &layer->att_output, o, C, n_tokens, tmp, C);
    rwkv_add_rows(compute, x, tmp, n_tokens, C);
}

static void channel_mix(struct rwkv_compute * compute, uint32_t layer_index, float * x,
                        const struct rwkv_columns * columns) {
    const struct rwkv_layer * layer = &compute->model->layers[layer_index];
    const size_t n_tokens = columns->n;
    const size_t C = compute->model->n_embed;
    const size_t F = compute->model->ffn_size;
    struct rwkv_scratch * s = &compute->scratch;
    float * xf = s->vectors[0];
    float * xk = s->vectors[1];
    float * out = s->vectors[2];
    float * hidden = s->hidden[0];

    rwkv_layer_norm_rows(compute, x, layer->ln2_weight, layer->ln2_bias, xf, n_tokens, C, LAYER_NORM_EPS);
    const float * mix[1] = { layer->ffn_mix_k };
    float * mixed[1] = { xk };
    rwkv_shift_delta(compute, columns, layer_index, 0, xf, mix, mixed, 1);

    rwkv_matmul(compute, &layer->ffn_key, xk, C, n_tokens, hidden, F);
    rwkv_activate_rows(compute, RWKV_ACTIVATION_RELU_SQUARED, hidden, n_tokens, F);
    rwkv_matmul(compute, &layer->ffn_value, hidden, F, n_tokens, out, C);
    rwkv_add_rows(compute, x, out, n_tokens, C);
}

void rwkv_block_v7(struct rwkv_compute * compute, uint32_t layer, float * x, const struct rwkv_columns * columns) {
    time_mix(compute, layer, x, columns);
    channel_mix(compute, layer, x, columns);
}
