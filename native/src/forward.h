/*
 * The forward pass: embedding, the blocks of one architecture, then the head.
 *
 * Each architecture provides one function that runs a whole block (time mixing, then channel
 * mixing) for a set of columns (tokens) on the residual stream x, reading and updating that
 * block's slice of the states. Splitting by block is what lets another backend (CUDA, Metal) take
 * over a range of blocks later without touching the others.
 */
#ifndef RWKV_FORWARD_H
#define RWKV_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "compute.h"

/*
 * The columns of one forward call: n tokens that are either a run of consecutive tokens of one
 * sequence sharing one state (sequence mode; column t's previous token is column t - 1), or one
 * token each of n independent sessions, each with its own state (batch mode).
 */
struct rwkv_columns {
    size_t n;
    float * const * states;   /* whole state buffers: states[0] if shared, else states[0 .. n-1] */
    bool shared;
};

/* The state slice of `layer` that column t reads and updates. */
static inline float * rwkv_layer_state(const struct rwkv_model * model, const struct rwkv_columns * columns,
                                       size_t t, uint32_t layer) {
    return columns->states[columns->shared ? 0 : t] + (size_t)layer * (model->state_len / model->n_layer);
}

typedef void (*rwkv_block_fn)(struct rwkv_compute * compute, uint32_t layer, float * x,
                              const struct rwkv_columns * columns);

void rwkv_block_v4(struct rwkv_compute * compute, uint32_t layer, float * x, const struct rwkv_columns * columns);
void rwkv_block_v5(struct rwkv_compute * compute, uint32_t layer, float * x, const struct rwkv_columns * columns);
void rwkv_block_v6(struct rwkv_compute * compute, uint32_t layer, float * x, const struct rwkv_columns * columns);
void rwkv_block_v7(struct rwkv_compute * compute, uint32_t layer, float * x, const struct rwkv_columns * columns);

/*
 * Evaluates the columns' tokens (1 <= n <= the scratch capacity), updating their states in place.
 * logits: NULL, or one buffer per column (entries may be NULL); each receives that column's logits.
 * In sequence mode only the last column can want logits.
 */
void rwkv_forward(struct rwkv_compute * compute, const uint32_t * tokens, const struct rwkv_columns * columns,
                  float * const * logits);

/* Writes the initial state: zeros, except v4's att_pp vectors (-1e30). */
void rwkv_initial_state(const struct rwkv_model * model, float * state);

/*
 * Token shift. The row that column t mixes with as its "previous token": row t - 1 of `rows` in
 * sequence mode, else the normalised row its state saved from the previous call (offset within the
 * layer state: 0 for ffn_xx, C for att_xx). rwkv_shift_save stores the rows that later calls need.
 */
const float * rwkv_shift_previous(const struct rwkv_compute * compute, const struct rwkv_columns * columns,
                                  uint32_t layer, size_t offset, const float * rows, size_t t);
void rwkv_shift_save(const struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer,
                     size_t offset, const float * rows);

/*
 * The v4/v5 token shift: out[k][t] = cur * m_k + (prev - prev * m_k) (rwkv.cpp's lerp form) for
 * each of `count` coefficient vectors m_k, over the columns' normalised rows; then saves the rows.
 * Tokens are shared among the pool's threads.
 */
void rwkv_shift_lerp(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer,
                     size_t offset, const float * rows, const float * const * mix, float * const * out, int count);

/* The same with the v6/v7 form: out[k][t] = cur + (prev - cur) * m_k. */
void rwkv_shift_delta(struct rwkv_compute * compute, const struct rwkv_columns * columns, uint32_t layer,
                      size_t offset, const float * rows, const float * const * mix, float * const * out, int count);

/*
 * The end of v5/v6 time mixing: o = GroupNorm(o, ln_x) per head, times gate g (if not NULL), then
 * x += att.output o. `out` is scratch for the product.
 */
void rwkv_attention_output(struct rwkv_compute * compute, const struct rwkv_layer * layer, float eps, float * o,
                           const float * g, float * x, float * out, size_t n_tokens);

/*
 * Channel mixing shared by v4, v5 and v6 (receptance-gated, squared-ReLU FFN). mix_is_lerp selects
 * v4/v5 coefficients (x*m + prev*(1-m)) versus v6 ones (x + (prev - x)*m).
 */
void rwkv_channel_mix_gated(struct rwkv_compute * compute, uint32_t layer, float * x,
                            const struct rwkv_columns * columns, bool mix_is_lerp);

#endif
