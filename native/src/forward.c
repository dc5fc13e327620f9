#include "forward.h"

#include <stdbool.h>
#include <string.h>

#include "ops.h"
#include "platform.h"
#include "quant_blocks.h"

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

void rwkv_initial_state(const struct rwkv_model * model, float * state) {
    memset(state, 0, model->state_len * sizeof(float));
    if (model->arch == RWKV_ARCH_V4) {
        /* att_pp, the exponent offset of the numerically stable WKV sums, starts at "minus infinity". */
        const size_t C = model->n_embed;
        const size_t per_layer = model->state_len / model->n_layer;
        for (uint32_t layer = 0; layer < model->n_layer; layer++) {
            float * pp = state + layer * per_layer + 4 * C;
            for (size_t i = 0; i < C; i++) {
                pp[i] = -1e30f;
            }
        }
    }
}

const float * rwkv_shift_previous(const struct rwkv_compute * compute, const struct rwkv_columns * columns,
                                  uint32_t layer, size_t offset, const float * rows, size_t t) {
    const size_t C = compute->model->n_embed;
    if (columns->shared && t > 0) {
        return rows + (t - 1) * C;
    }
    return rwkv_layer_state(compute->model, columns, t, layer) + offset;
}

void rwkv_shift_save(const struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer,
                     size_t offset, const float * rows) {
    const size_t C = compute->model->n_embed;
    if (columns->shared) {
        memcpy(rwkv_layer_state(compute->model, columns, 0, layer) + offset, rows + (columns->n - 1) * C,
               C * sizeof(float));
        return;
    }
    for (size_t t = 0; t < columns->n; t++) {
        memcpy(rwkv_layer_state(compute->model, columns, t, layer) + offset, rows + t * C, C * sizeof(float));
    }
}

/*
 * Each token's embedding row is read from the file, not through the mapping: a row read through
 * the mapping keeps resident the pages the fault mapped around it (64 KiB of fault-around on
 * Linux, a whole folio of up to 2 MiB where the page cache holds large ones), so a conversation
 * would soon hold most of the matrix (256 MiB on a 1.5B model) in this process's resident set
 * (test_mapping: 32 MiB after 512 rows). The page cache serves the reads either way. Should
 * a read fail (the file changed, a disk error), the row is read through the mapping as before.
 */
static void embed(struct rwkv_compute * compute, const uint32_t * tokens, size_t n_tokens, float * x) {
    const struct rwkv_model * model = compute->model;
    const size_t C = model->n_embed;
    const size_t row_bytes = model->emb.row_bytes;
    const uint64_t start = (uint64_t)(model->emb.data - model->file.data);
    /* The activation buffer is free until the first product and holds any row (at least 4 * C bytes). */
    uint8_t * copy = compute->scratch.act;
    for (size_t t = 0; t < n_tokens; t++) {
        const uint8_t * row = model->emb.data + (size_t)tokens[t] * row_bytes;
        if (rwkv_read_mapped_file(&model->file, start + (uint64_t)tokens[t] * row_bytes, copy, row_bytes)) {
            row = copy;
        }
        rwkv_dequantize_row(model->emb.type, row, C, x + t * C);
        rwkv_layer_norm(x + t * C, model->ln0_weight, model->ln0_bias, x + t * C, C, LAYER_NORM_EPS);
    }
}

/* ln_out and the head for the columns that want logits, in one matrix product (the head is the
   largest matrix: it must be read once for all of them, not once per column). */
static void head(struct rwkv_compute * compute, const float * x, size_t n, float * const * logits) {
    const struct rwkv_model * model = compute->model;
    const size_t C = model->n_embed;
    const size_t V = model->n_vocab;
    struct rwkv_scratch * scratch = &compute->scratch;
    size_t wanted = 0;
    for (size_t t = 0; t < n; t++) {
        if (logits[t] != NULL) {
            rwkv_layer_norm(x + t * C, model->ln_out_weight, model->ln_out_bias, scratch->head_input + wanted * C, C,
                            LAYER_NORM_EPS);
            wanted++;
        }
    }
    if (wanted == 1) {
        for (size_t t = 0; t < n; t++) {
            if (logits[t] != NULL) {
                rwkv_matmul(compute, &model->head, scratch->head_input, C, 1, logits[t], V);
            }
        }
    } else if (wanted > 1) {
        rwkv_matmul_scatter(compute, &model->head, scratch->head_input, C, wanted, scratch->logits, V, logits, n);
    }
}

void rwkv_forward(struct rwkv_compute * compute, const uint32_t * tokens, const struct rwkv_columns * columns,
                  float * const * logits) {
    const struct rwkv_model * model = compute->model;
    float * x = compute->scratch.x;
    embed(compute, tokens, columns->n, x);
    rwkv_block_fn block = block_function(model->arch);
    for (uint32_t layer = 0; layer < model->n_layer; layer++) {
        block(compute, layer, x, columns);
    }
    if (logits != NULL) {
        head(compute, x, columns->n, logits);
    }
}

struct shift_job {
    const struct rwkv_compute * compute;
    const struct rwkv_columns * columns;
    uint32_t layer;
    size_t offset;
    const float * rows;
    const float * const * mix;
    float * const * out;
    int count;
    bool delta_form;
};

static void shift_tokens(void * arg, size_t begin, size_t end) {
    const struct shift_job * job = arg;
    const size_t C = job->compute->model->n_embed;
    for (size_t t = begin; t < end; t++) {
        const float * cur = job->rows + t * C;
        const float * prev = rwkv_shift_previous(job->compute, job->columns, job->layer, job->offset, job->rows, t);
        for (int k = 0; k < job->count; k++) {
            const float * m = job->mix[k];
            float * o = job->out[k] + t * C;
            if (job->delta_form) {
                for (size_t i = 0; i < C; i++) {
                    o[i] = cur[i] + (prev[i] - cur[i]) * m[i];
                }
            } else {
                for (size_t i = 0; i < C; i++) {
                    o[i] = cur[i] * m[i] + (prev[i] - prev[i] * m[i]);
                }
            }
        }
    }
}

static void token_shift(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer,
                        size_t offset, const float * rows, const float * const * mix, float * const * out, int count,
                        bool delta_form) {
    struct shift_job job = { compute, columns, layer, offset, rows, mix, out, count, delta_form };
    rwkv_for_tokens(compute, columns->n, shift_tokens, &job);
    rwkv_shift_save(compute, columns, layer, offset, rows);
}

void rwkv_shift_lerp(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer,
                     size_t offset, const float * rows, const float * const * mix, float * const * out, int count) {
    token_shift(compute, columns, layer, offset, rows, mix, out, count, false);
}

void rwkv_shift_delta(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer,
                      size_t offset, const float * rows, const float * const * mix, float * const * out, int count) {
    token_shift(compute, columns, layer, offset, rows, mix, out, count, true);
}

struct group_norm_job {
    const struct rwkv_model * model;
    const struct rwkv_layer * layer;
    float eps;
    float * o;
    const float * g;
};

static void group_norm_tokens(void * arg, size_t begin, size_t end) {
    const struct group_norm_job * job = arg;
    const struct rwkv_model * model = job->model;
    const size_t C = model->n_embed;
    for (size_t t = begin; t < end; t++) {
        float * o = job->o + t * C;
        rwkv_group_norm(o, job->layer->att_ln_x_weight, job->layer->att_ln_x_bias, o, model->n_head,
                        model->head_size, job->eps);
        if (job->g != NULL) {
            const float * g = job->g + t * C;
            for (size_t i = 0; i < C; i++) {
                o[i] *= g[i];
            }
        }
    }
}

void rwkv_attention_output(struct rwkv_compute * compute, const struct rwkv_layer * layer, float eps, float * o,
                           const float * g, float * x, float * out, size_t n_tokens) {
    const size_t C = compute->model->n_embed;
    struct group_norm_job job = { compute->model, layer, eps, o, g };
    rwkv_for_tokens(compute, n_tokens, group_norm_tokens, &job);
    rwkv_matmul(compute, &layer->att_output, o, C, n_tokens, out, C);
    rwkv_add_rows(compute, x, out, n_tokens, C);
}

struct gate_job {
    float * x;
    const float * r, * v;
    size_t C;
};

/* x += sigmoid(r) * v, for rows [begin, end). */
RWKV_VECTOR_CLONES
static void add_gated(void * arg, size_t begin, size_t end) {
    const struct gate_job * job = arg;
    for (size_t i = begin * job->C; i < end * job->C; i++) {
        job->x[i] += rwkv_sigmoid(job->r[i]) * job->v[i];
    }
}

void rwkv_channel_mix_gated(struct rwkv_compute * compute, uint32_t layer_index, float * x,
                            const struct rwkv_columns * columns, bool mix_is_lerp) {
    const struct rwkv_model * model = compute->model;
    const struct rwkv_layer * layer = &model->layers[layer_index];
    const size_t C = model->n_embed;
    const size_t F = model->ffn_size;
    const size_t n = columns->n;
    struct rwkv_scratch * s = &compute->scratch;
    float * xf = s->vectors[0];
    float * xk = s->vectors[1];
    float * xr = s->vectors[2];
    float * r = s->vectors[3];
    float * v = s->vectors[4];
    float * k = s->hidden[0];

    rwkv_layer_norm_rows(compute, x, layer->ln2_weight, layer->ln2_bias, xf, n, C, LAYER_NORM_EPS);
    const float * mix[2] = { layer->ffn_mix_k, layer->ffn_mix_r };
    float * mixed[2] = { xk, xr };
    if (mix_is_lerp) {
        rwkv_shift_lerp(compute, columns, layer_index, 0, xf, mix, mixed, 2);
    } else {
        rwkv_shift_delta(compute, columns, layer_index, 0, xf, mix, mixed, 2);
    }

    rwkv_matmul(compute, &layer->ffn_key, xk, C, n, k, F);
    rwkv_activate_rows(compute, RWKV_ACTIVATION_RELU_SQUARED, k, n, F);
    rwkv_matmul(compute, &layer->ffn_value, k, F, n, v, C);
    rwkv_matmul(compute, &layer->ffn_receptance, xr, C, n, r, C);
    struct gate_job job = { x, r, v, C };
    rwkv_for_tokens(compute, n, add_gated, &job);
}
