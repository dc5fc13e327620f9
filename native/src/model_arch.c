#include "model_arch.h"

#include "model.h"

#define L(field) offsetof(struct rwkv_layer, field)
#define M(field) offsetof(struct rwkv_model, field)
#define VEC_C { DIM_C, DIM_1, DIM_1 }
#define MAT_CC { DIM_C, DIM_C, DIM_1 }

static const struct rwkv_tensor_spec GLOBAL_TENSORS[] = {
    { "emb.weight", MATRIX, { DIM_C, DIM_V, DIM_1 }, M(emb), 0 },
    { "blocks.0.ln0.weight", VECTOR, VEC_C, M(ln0_weight), 0 },
    { "blocks.0.ln0.bias", VECTOR, VEC_C, M(ln0_bias), 0 },
    { "ln_out.weight", VECTOR, VEC_C, M(ln_out_weight), 0 },
    { "ln_out.bias", VECTOR, VEC_C, M(ln_out_bias), 0 },
    { "head.weight", MATRIX, { DIM_C, DIM_V, DIM_1 }, M(head), 0 },
};

#define COMMON_LAYER_TENSORS                                                        \
    { "ln1.weight", VECTOR, VEC_C, L(ln1_weight), 0 },                              \
    { "ln1.bias", VECTOR, VEC_C, L(ln1_bias), 0 },                                  \
    { "ln2.weight", VECTOR, VEC_C, L(ln2_weight), 0 },                              \
    { "ln2.bias", VECTOR, VEC_C, L(ln2_bias), 0 },                                  \
    { "ffn.key.weight", MATRIX, { DIM_C, DIM_F, DIM_1 }, L(ffn_key), 0 },           \
    { "ffn.value.weight", MATRIX, { DIM_F, DIM_C, DIM_1 }, L(ffn_value), 0 }

#define ATT_KVRO_TENSORS                                                            \
    { "att.key.weight", MATRIX, MAT_CC, L(att_key), 0 },                            \
    { "att.value.weight", MATRIX, MAT_CC, L(att_value), 0 },                        \
    { "att.receptance.weight", MATRIX, MAT_CC, L(att_receptance), 0 },              \
    { "att.output.weight", MATRIX, MAT_CC, L(att_output), 0 }

#define FFN_LERP_TENSORS                                                            \
    { "ffn.time_mix_k", VECTOR, VEC_C, L(ffn_mix_k), 0 },                           \
    { "ffn.time_mix_r", VECTOR, VEC_C, L(ffn_mix_r), 0 },                           \
    { "ffn.receptance.weight", MATRIX, MAT_CC, L(ffn_receptance), 0 }

#define ATT_LERP_TENSORS                                                            \
    { "att.time_mix_k", VECTOR, VEC_C, L(att_mix_k), 0 },                           \
    { "att.time_mix_v", VECTOR, VEC_C, L(att_mix_v), 0 },                           \
    { "att.time_mix_r", VECTOR, VEC_C, L(att_mix_r), 0 }

#define LN_X_TENSORS                                                                \
    { "att.ln_x.weight", VECTOR, VEC_C, L(att_ln_x_weight), 0 },                    \
    { "att.ln_x.bias", VECTOR, VEC_C, L(att_ln_x_bias), 0 }

static const struct rwkv_tensor_spec V4_TENSORS[] = {
    COMMON_LAYER_TENSORS, ATT_KVRO_TENSORS, FFN_LERP_TENSORS, ATT_LERP_TENSORS,
    { "att.time_first", VECTOR, VEC_C, L(att_bonus), 0 },
    { "att.time_decay", VECTOR, VEC_C, L(att_decay), 0 },
};

static const struct rwkv_tensor_spec V5_1_TENSORS[] = {
    COMMON_LAYER_TENSORS, ATT_KVRO_TENSORS, FFN_LERP_TENSORS, ATT_LERP_TENSORS, LN_X_TENSORS,
    { "att.time_first", VECTOR_PER_HEAD, { DIM_1, DIM_1, DIM_H }, L(att_bonus), 0 },
    { "att.time_decay", VECTOR_PER_HEAD, { DIM_1, DIM_1, DIM_H }, L(att_decay), 0 },
};

static const struct rwkv_tensor_spec V5_2_TENSORS[] = {
    COMMON_LAYER_TENSORS, ATT_KVRO_TENSORS, FFN_LERP_TENSORS, ATT_LERP_TENSORS, LN_X_TENSORS,
    { "att.time_faaaa", VECTOR, { DIM_1, DIM_S, DIM_H }, L(att_bonus), 0 },
    { "att.time_decay", VECTOR, { DIM_1, DIM_S, DIM_H }, L(att_decay), 0 },
    { "att.time_mix_g", VECTOR, VEC_C, L(att_mix_g), 0 },
    { "att.gate.weight", MATRIX, MAT_CC, L(att_gate), 0 },
};

static const struct rwkv_tensor_spec V6_TENSORS[] = {
    COMMON_LAYER_TENSORS, ATT_KVRO_TENSORS, LN_X_TENSORS,
    { "att.gate.weight", MATRIX, MAT_CC, L(att_gate), 0 },
    { "att.time_maa_x", VECTOR, VEC_C, L(maa_x), 0 },
    { "att.time_maa_w", VECTOR, VEC_C, L(maa_w), 0 },
    { "att.time_maa_k", VECTOR, VEC_C, L(maa_k), 0 },
    { "att.time_maa_v", VECTOR, VEC_C, L(maa_v), 0 },
    { "att.time_maa_r", VECTOR, VEC_C, L(maa_r), 0 },
    { "att.time_maa_g", VECTOR, VEC_C, L(maa_g), 0 },
    { "att.time_maa_w1", MATRIX, { DIM_C, DIM_5DM, DIM_1 }, L(maa_w1), 0 },
    { "att.time_maa_w2", MATRIX_SLICES5, { DIM_DM, DIM_C, DIM_5 }, L(maa_w2), 0 },
    { "att.time_decay", VECTOR, { DIM_1, DIM_S, DIM_H }, L(att_decay), 0 },
    { "att.time_decay_w1", MATRIX, { DIM_C, DIM_DD, DIM_1 }, L(decay_w1), 0 },
    { "att.time_decay_w2", MATRIX, { DIM_DD, DIM_C, DIM_1 }, L(decay_w2), 0 },
    { "att.time_faaaa", VECTOR, { DIM_1, DIM_S, DIM_H }, L(att_bonus), 0 },
    { "ffn.time_maa_k", VECTOR, VEC_C, L(ffn_mix_k), 0 },
    { "ffn.time_maa_r", VECTOR, VEC_C, L(ffn_mix_r), 0 },
    { "ffn.receptance.weight", MATRIX, MAT_CC, L(ffn_receptance), 0 },
};

static const struct rwkv_tensor_spec V7_TENSORS[] = {
    COMMON_LAYER_TENSORS, ATT_KVRO_TENSORS, LN_X_TENSORS,
    { "att.x_rwkvag", VECTOR, { DIM_C, DIM_1, DIM_6 }, L(x_rwkvag), 0 },
    { "att.w0", VECTOR, VEC_C, L(w0), 0 },
    { "att.a0", VECTOR, VEC_C, L(a0), 0 },
    { "att.v0", VECTOR, VEC_C, L(v0), NOT_IN_LAYER_0 },
    { "att.w1", MATRIX, { DIM_C, DIM_DW, DIM_1 }, L(w1), 0 },
    { "att.w2", MATRIX, { DIM_DW, DIM_C, DIM_1 }, L(w2), 0 },
    { "att.a1", MATRIX, { DIM_C, DIM_DA, DIM_1 }, L(a1), 0 },
    { "att.a2", MATRIX, { DIM_DA, DIM_C, DIM_1 }, L(a2), 0 },
    { "att.v1", MATRIX, { DIM_C, DIM_DV, DIM_1 }, L(v1), NOT_IN_LAYER_0 },
    { "att.v2", MATRIX, { DIM_DV, DIM_C, DIM_1 }, L(v2), NOT_IN_LAYER_0 },
    { "att.g1", MATRIX, { DIM_C, DIM_DG, DIM_1 }, L(g1), 0 },
    { "att.g2", MATRIX, { DIM_DG, DIM_C, DIM_1 }, L(g2), 0 },
    { "att.k_k", VECTOR, VEC_C, L(k_k), 0 },
    { "att.k_a", VECTOR, VEC_C, L(k_a), 0 },
    { "att.r_k", VECTOR, { DIM_S, DIM_H, DIM_1 }, L(r_k), 0 },
    { "ffn.x_k", VECTOR, VEC_C, L(ffn_mix_k), 0 },
};

struct rwkv_tensor_table rwkv_global_tensors(void) {
    return (struct rwkv_tensor_table){ GLOBAL_TENSORS, sizeof GLOBAL_TENSORS / sizeof GLOBAL_TENSORS[0] };
}

struct rwkv_tensor_table rwkv_layer_tensors(enum rwkv_architecture arch) {
#define TABLE(t) (struct rwkv_tensor_table){ t, sizeof(t) / sizeof(t[0]) }
    switch (arch) {
    case RWKV_ARCH_V4: return TABLE(V4_TENSORS);
    case RWKV_ARCH_V5_1: return TABLE(V5_1_TENSORS);
    case RWKV_ARCH_V5_2: return TABLE(V5_2_TENSORS);
    case RWKV_ARCH_V6: return TABLE(V6_TENSORS);
    case RWKV_ARCH_V7: return TABLE(V7_TENSORS);
    default: return (struct rwkv_tensor_table){ NULL, 0 };
    }
#undef TABLE
}

