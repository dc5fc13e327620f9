/*
 * The forward pass: embedding, the blocks of one architecture, then the head.
 *
 * Each architecture provides one function that runs a whole block (time mixing, then channel
 * mixing) for n_tokens consecutive tokens on the residual stream x, reading and updating that
 * block's slice of the state. Splitting by block is what lets another backend (CUDA, Metal) take
 * over a range of blocks later without touching the others.
 */
#ifndef RWKV_FORWARD_H
#define RWKV_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "compute.h"

typedef void (*rwkv_block_fn)(struct rwkv_compute * compute, uint32_t layer, float * x, size_t n_tokens,
                              float * layer_state);

void rwkv_block_v4(struct rwkv_compute * compute, uint32_t layer, float * x, size_t n_tokens, float * layer_state);
void rwkv_block_v5(struct rwkv_compute * compute, uint32_t layer, float * x, size_t n_tokens, float * layer_state);
void rwkv_block_v6(struct rwkv_compute * compute, uint32_t layer, float * x, size_t n_tokens, float * layer_state);
void rwkv_block_v7(struct rwkv_compute * compute, uint32_t layer, float * x, size_t n_tokens, float * layer_state);

/*
 * Evaluates n_tokens tokens (1 <= n_tokens <= the scratch capacity) starting from `state`
 * (updated in place). If logits is not NULL, writes the logits after the last token.
 */
void rwkv_forward(struct rwkv_compute * compute, const uint32_t * tokens, size_t n_tokens, float * state,
                  float * logits);

/* Writes the initial state: zeros, except v4's att_pp vectors (-1e30). */
void rwkv_initial_state(const struct rwkv_model * model, float * state);

/*
 * Channel mixing shared by v4, v5 and v6 (receptance-gated, squared-ReLU FFN). mix_is_lerp selects
 * v4/v5 coefficients (x*m + prev*(1-m)) versus v6 ones (x + (prev - x)*m).
 */
void rwkv_channel_mix_gated(struct rwkv_compute * compute, const struct rwkv_layer * layer, float * x,
                            size_t n_tokens, float * ffn_xx, bool mix_is_lerp);

#endif
