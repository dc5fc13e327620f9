/* Kernel selection: the fastest level this CPU and build support, chosen once. */
#include "kernels.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_features.h"
#include "data_types.h"

size_t rwkv_act_bytes(uint32_t weight_type, size_t n_in) {
    const size_t n_blocks = n_in / RWKV_QK;
    size_t bytes = (n_blocks + RWKV_ACT_GROUP_BLOCKS - 1) / RWKV_ACT_GROUP_BLOCKS * sizeof(struct rwkv_act_group);
    switch (weight_type) {
    case RWKV_TYPE_FP32:
    case RWKV_TYPE_FP16:
        /* At least any quantized layout's size for the same n_in (see kernels.h). */
        if (n_in * sizeof(float) > bytes) {
            bytes = n_in * sizeof(float);
        }
        break;
    case RWKV_TYPE_Q4_0:
    case RWKV_TYPE_Q5_0:
    case RWKV_TYPE_Q8_0:
        if (n_blocks * sizeof(struct rwkv_block_q8_0) > bytes) {
            bytes = n_blocks * sizeof(struct rwkv_block_q8_0);
        }
        break;
    case RWKV_TYPE_Q4_1:
    case RWKV_TYPE_Q5_1:
        if (n_blocks * sizeof(struct rwkv_block_q8_1) > bytes) {
            bytes = n_blocks * sizeof(struct rwkv_block_q8_1);
        }
        break;
    default:
        return 0;
    }
    return (bytes + 63) & ~(size_t)63;
}

bool rwkv_float_acts_fit_l1(const struct rwkv_matrix * w, size_t n_cols) {
    const size_t detected = rwkv_cpu_features_get()->l1d_bytes;
    const size_t l1 = detected > RWKV_DECODE_L1_RESERVE_BYTES ? detected : RWKV_DECODE_L1_DEFAULT_BYTES;
    return n_cols * rwkv_act_bytes(w->type, w->n_in) <= l1 - RWKV_DECODE_L1_RESERVE_BYTES;
}

bool rwkv_decode_act_outgrows_l1(const struct rwkv_matrix * w) {
    return !rwkv_type_is_quantized(w->type) && !rwkv_float_acts_fit_l1(w, 1);
}

#ifdef RWKV_HAVE_X86_KERNELS
static bool cpu_runs_avx2(const struct rwkv_cpu_features * cpu) {
    return cpu->avx && cpu->avx2 && cpu->fma && cpu->f16c;
}

/* The AVX-512 file is also compiled for AVX2/FMA/F16C, so it needs those too. */
static bool cpu_runs_avx512(const struct rwkv_cpu_features * cpu) {
    return cpu_runs_avx2(cpu) && cpu->bmi2 && cpu->avx512f && cpu->avx512bw && cpu->avx512vl && cpu->avx512dq;
}
#endif

const struct rwkv_kernels * rwkv_kernels_by_name(const char * name) {
    if (name == NULL) {
        return NULL;
    }
    if (strcmp(name, "scalar") == 0) {
        return &rwkv_kernels_scalar;
    }
#ifdef RWKV_HAVE_X86_KERNELS
    const struct rwkv_cpu_features * cpu = rwkv_cpu_features_get();
    if (strcmp(name, "avx2") == 0 && cpu_runs_avx2(cpu)) {
        return &rwkv_kernels_avx2;
    }
#ifdef RWKV_HAVE_AVX2_VNNI_KERNELS
    if (strcmp(name, "avx2vnni") == 0 && cpu_runs_avx2(cpu) && cpu->avxvnni) {
        return &rwkv_kernels_avx2vnni;
    }
#endif
    if (strcmp(name, "avx512") == 0 && cpu_runs_avx512(cpu)) {
        return &rwkv_kernels_avx512;
    }
    if (strcmp(name, "avx512vnni") == 0 && cpu_runs_avx512(cpu) && cpu->avx512vnni) {
        return &rwkv_kernels_avx512vnni;
    }
#endif
#ifdef RWKV_HAVE_NEON_KERNELS
    if (strcmp(name, "neon") == 0 && rwkv_cpu_features_get()->neon) {
        return &rwkv_kernels_neon;
    }
#endif
    return NULL;
}

/* Best first. JRWKV_KERNELS names an upper bound: levels above it are skipped; unknown names are ignored. */
static const struct rwkv_kernels * choose_kernels(void) {
    /* One list for every architecture: a level this build or CPU lacks is skipped, so x86 builds
       skip "neon" and ARM builds the AVX levels (there JRWKV_KERNELS=avx2 means scalar). */
    static const char * const levels[] = { "neon", "avx512vnni", "avx512", "avx2vnni", "avx2", "scalar" };
    const size_t n_levels = sizeof levels / sizeof levels[0];
    size_t first = 0;
    const char * limit = getenv("JRWKV_KERNELS");
    for (size_t i = 0; limit != NULL && i < n_levels; i++) {
        if (strcmp(limit, levels[i]) == 0) {
            first = i;
        }
    }
    for (size_t i = first; i < n_levels; i++) {
        const struct rwkv_kernels * kernels = rwkv_kernels_by_name(levels[i]);
        if (kernels != NULL) {
            return kernels;
        }
    }
    return &rwkv_kernels_scalar;
}

const struct rwkv_kernels * rwkv_kernels_best(void) {
    /* Racing first callers compute the same answer, so a plain atomic store is enough. */
    static _Atomic(const struct rwkv_kernels *) chosen;
    const struct rwkv_kernels * kernels = atomic_load_explicit(&chosen, memory_order_acquire);
    if (kernels == NULL) {
        kernels = choose_kernels();
        atomic_store_explicit(&chosen, kernels, memory_order_release);
    }
    return kernels;
}
