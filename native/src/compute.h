/*
 * What a forward pass computes with: the model, the kernels chosen for this CPU, the context's
 * thread pool and its scratch buffers. One per context; nothing here is shared between contexts.
 */
#ifndef RWKV_COMPUTE_H
#define RWKV_COMPUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"
#include "model.h"
#include "threadpool.h"

/* Per-token vectors of width n_embed that a forward pass may use at once (v7 needs the most). */
#define RWKV_SCRATCH_VECTORS 20

/*
 * Buffers for up to `capacity` tokens evaluated together. Allocated when a context is created
 * (capacity 1) and grown, never per token, when sequence mode first needs more.
 */
struct rwkv_scratch {
    size_t capacity;
    float * x;                                  /* residual stream, capacity x C */
    float * vectors[RWKV_SCRATCH_VECTORS];      /* capacity x C each */
    float * hidden[2];                          /* capacity x max_hidden each */
    uint8_t * act;                              /* matmul activations, capacity x act_stride */
    size_t act_stride;
    float * head_input;                         /* capacity x C: normalised rows for the head */
    float * logits;                             /* capacity x n_vocab, for batched heads (lazily) */
};

struct rwkv_compute {
    const struct rwkv_model * model;
    const struct rwkv_kernels * kernels;
    struct rwkv_threadpool * pool;
    struct rwkv_scratch scratch;
};

/* Makes sure the scratch holds `tokens` columns. False on allocation failure. */
bool rwkv_scratch_reserve(struct rwkv_compute * compute, size_t tokens);

/* Makes sure scratch->logits holds the capacity's columns (only batch evaluation needs it). */
bool rwkv_scratch_reserve_logits(struct rwkv_compute * compute);
void rwkv_scratch_free(struct rwkv_scratch * scratch);

#endif
