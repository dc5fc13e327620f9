/*
 * The tensors of every architecture: names, roles and shapes in terms of symbolic sizes (n_embed,
 * heads, LoRA ranks, ...). The loader checks files against these tables and the random-model
 * writer generates files from them, so there is one description of each architecture.
 */
#ifndef RWKV_MODEL_ARCH_H
#define RWKV_MODEL_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "rwkv.h"

enum rwkv_dim {
    DIM_1,
    DIM_5,
    DIM_6,
    DIM_C,      /* n_embed */
    DIM_V,      /* n_vocab */
    DIM_H,      /* heads */
    DIM_S,      /* head size */
    DIM_F,      /* channel-mix width */
    DIM_5DM,    /* v6: 5 x time-mix LoRA rank */
    DIM_DM,     /* v6: time-mix LoRA rank */
    DIM_DD,     /* v6: decay LoRA rank */
    DIM_DW,     /* v7 LoRA ranks */
    DIM_DA,
    DIM_DV,
    DIM_DG,
    DIM_COUNT
};

enum rwkv_tensor_kind {
    VECTOR,         /* widened to float32 into the arena, flat element order */
    VECTOR_PER_HEAD,/* v5.1 [1, 1, H]: one value per head, broadcast to the head's channels */
    MATRIX,         /* [n_in, n_out], stays in the mapping */
    MATRIX_SLICES5  /* v6 time_maa_w2 [Dm, C, 5]: five [Dm, C] matrices */
};

enum rwkv_tensor_flags {
    NOT_IN_LAYER_0 = 1  /* v7 v0/v1/v2: value residual mixing starts at layer 1 */
};

struct rwkv_tensor_spec {
    const char * name;          /* suffix after "blocks.N." for layer tensors */
    enum rwkv_tensor_kind kind;
    uint8_t dims[3];            /* expected ne0, ne1, ne2 (enum rwkv_dim) */
    size_t field;               /* offsetof in struct rwkv_layer (or struct rwkv_model for globals) */
    unsigned flags;
};

struct rwkv_tensor_table {
    const struct rwkv_tensor_spec * specs;
    size_t count;
};

/* Tensors outside the blocks (embedding, ln0, ln_out, head); their field offsets are in struct rwkv_model. */
struct rwkv_tensor_table rwkv_global_tensors(void);

/* Tensors of each block of an architecture; field offsets in struct rwkv_layer. Empty if unknown. */
struct rwkv_tensor_table rwkv_layer_tensors(enum rwkv_architecture arch);

#endif
