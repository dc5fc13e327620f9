/*
 * A loaded model: the validated file mapping plus typed views of its tensors, shared read-only by
 * every context that uses it (contexts are clones sharing one model; it is freed with the last).
 *
 * Matrices stay in the mapping in their stored type. Vectors (norm weights, mixing coefficients,
 * decays, ...) are small: they are widened to float32 once, into one aligned arena, so the forward
 * passes read plain aligned floats and never care how the file stored them.
 */
#ifndef RWKV_MODEL_H
#define RWKV_MODEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "file_format.h"
#include "kernels/kernels.h"
#include "platform.h"
#include "rwkv.h"

/* Every tensor one block can have, over all architectures; each forward pass uses its own subset. */
struct rwkv_layer {
    const float * ln1_weight, * ln1_bias;
    const float * ln2_weight, * ln2_bias;

    /* Time mixing, v4/v5: lerp coefficients (time_mix_*). */
    const float * att_mix_k, * att_mix_v, * att_mix_r, * att_mix_g;
    /* v4: time_first / time_decay (-exp); v5.x: bonus u and decay w per channel (v5.1 broadcast
       over the head); v6: u = time_faaaa, decay = the base d0 of the data-dependent decay. */
    const float * att_bonus, * att_decay;
    const float * att_ln_x_weight, * att_ln_x_bias;
    struct rwkv_matrix att_key, att_value, att_receptance, att_output, att_gate;

    /* v6 data-dependent token shift and decay. */
    const float * maa_x, * maa_w, * maa_k, * maa_v, * maa_r, * maa_g;
    struct rwkv_matrix maa_w1;          /* C -> 5 Dm */
    struct rwkv_matrix maa_w2[5];       /* Dm -> C, slots w, k, v, r, g */
    struct rwkv_matrix decay_w1;        /* C -> Dd */
    struct rwkv_matrix decay_w2;        /* Dd -> C */

    /* v7. */
    const float * x_rwkvag;             /* 6 C: mix vectors r, w, k, v, a, g */
    const float * w0, * a0, * v0, * k_k, * k_a, * r_k;
    struct rwkv_matrix w1, w2, a1, a2, v1, v2, g1, g2;

    /* Channel mixing: time_mix_k/r (v4, v5), time_maa_k/r (v6), x_k (v7, no receptance). */
    const float * ffn_mix_k, * ffn_mix_r;
    struct rwkv_matrix ffn_key, ffn_value, ffn_receptance;
};

struct rwkv_model {
    atomic_uint references;

    struct rwkv_mapped_file file;
    struct rwkv_file_view view;
    char ** tensor_names;               /* NUL-terminated copies, for rwkv_get_tensor_info */
    bool * tensor_used;

    enum rwkv_architecture arch;
    uint32_t n_vocab, n_embed, n_layer;
    uint32_t n_head, head_size;         /* 0 for v4 */
    uint32_t ffn_size;                  /* F */
    uint32_t lora_mix, lora_decay;      /* v6 Dm, Dd */
    uint32_t lora_w, lora_a, lora_v, lora_g; /* v7 ranks */
    size_t state_len;                   /* floats */
    /*
     * Activation precision for FP16 matrices. Files with quantized tensors follow ggml's scheme
     * throughout (inputs of FP16 matrices rounded to FP16), so they track rwkv.cpp's numbers;
     * FP32/FP16 files multiply FP16 weights by exact float32 inputs, the more accurate choice,
     * which costs nothing on a CPU. Both match rwkv.cpp's tiny-model thresholds.
     */
    bool round_fp16_inputs;
    size_t max_hidden;                  /* widest per-token vector other than C (F, 5 Dm, ...) */

    struct rwkv_matrix emb, head;
    const float * ln0_weight, * ln0_bias;
    const float * ln_out_weight, * ln_out_bias;
    struct rwkv_layer * layers;
    uint32_t gpu_layers;                /* layers whose matrices have device copies (+1: the head) */
    float * arena;                      /* float32 copies of all vectors */
};

/* Maps and validates path, detects the architecture, builds the tensor views. NULL on error. */
struct rwkv_model * rwkv_model_load(const char * path, struct rwkv_error_slot * error, bool print);

void rwkv_model_retain(struct rwkv_model * model);
void rwkv_model_release(struct rwkv_model * model);

#endif
