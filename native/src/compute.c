#include <stdlib.h>

#include "compute.h"
#include "data_types.h"
#include "platform.h"

static float * alloc_floats(size_t count) {
    return rwkv_aligned_alloc(64, count * sizeof(float));
}

void rwkv_scratch_free(struct rwkv_scratch * scratch) {
    rwkv_aligned_free(scratch->x);
    for (size_t i = 0; i < RWKV_SCRATCH_VECTORS; i++) {
        rwkv_aligned_free(scratch->vectors[i]);
    }
    rwkv_aligned_free(scratch->hidden[0]);
    rwkv_aligned_free(scratch->hidden[1]);
    rwkv_aligned_free(scratch->act);
    rwkv_aligned_free(scratch->head_input);
    rwkv_aligned_free(scratch->logits);
    *scratch = (struct rwkv_scratch){ 0 };
}

bool rwkv_scratch_reserve(struct rwkv_compute * compute, size_t tokens) {
    struct rwkv_scratch * scratch = &compute->scratch;
    if (tokens <= scratch->capacity) {
        return true;
    }
    const struct rwkv_model * model = compute->model;
    const size_t C = model->n_embed;
    const size_t widest = model->max_hidden > C ? model->max_hidden : C;
    struct rwkv_scratch grown = { 0 };
    grown.capacity = tokens;
    /* Float32 activations are the largest format; round rows to cache lines. */
    grown.act_stride = (rwkv_act_bytes(RWKV_TYPE_FP32, widest) + 63) & ~(size_t)63;
    bool ok = (grown.x = alloc_floats(tokens * C)) != NULL;
    for (size_t i = 0; ok && i < RWKV_SCRATCH_VECTORS; i++) {
        ok = (grown.vectors[i] = alloc_floats(tokens * C)) != NULL;
    }
    ok = ok && (grown.hidden[0] = alloc_floats(tokens * model->max_hidden)) != NULL;
    ok = ok && (grown.hidden[1] = alloc_floats(tokens * model->max_hidden)) != NULL;
    ok = ok && (grown.act = rwkv_aligned_alloc(64, tokens * grown.act_stride)) != NULL;
    ok = ok && (grown.head_input = alloc_floats(tokens * C)) != NULL;
    if (!ok) {
        rwkv_scratch_free(&grown);
        return false;
    }
    rwkv_scratch_free(scratch);
    *scratch = grown;
    return true;
}

bool rwkv_scratch_reserve_logits(struct rwkv_compute * compute) {
    struct rwkv_scratch * scratch = &compute->scratch;
    if (scratch->logits == NULL) {
        scratch->logits = alloc_floats(scratch->capacity * compute->model->n_vocab);
    }
    return scratch->logits != NULL;
}
