#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cpu_features.h"
#include "gpu/device.h"
#include "kernels/kernels.h"
#include "rwkv.h"

/* rwkv.cpp's keys in its order, with the values of the kernels we run on this CPU, then our own keys:
   the kernels, and the GPU backend compiled in (GPU=none in the CPU library, GPU=cuda in the CUDA variant). */
static void build(char * buffer, size_t size) {
    const struct rwkv_cpu_features * cpu = rwkv_cpu_features_get();
    const struct rwkv_kernels * kernels = rwkv_kernels_best();
    const bool avx512 = strncmp(kernels->name, "avx512", 6) == 0;
    const bool avx2 = avx512 || strcmp(kernels->name, "avx2") == 0;
    snprintf(buffer, size,
             "AVX=%d AVX2=%d AVX512=%d FMA=%d NEON=%d ARM_FMA=%d F16C=%d FP16_VA=%d WASM_SIMD=0 SSE3=%d VSX=0 KERNELS=%s GPU=%s",
             avx2 && cpu->avx, avx2, avx512, avx2 && cpu->fma, cpu->neon, cpu->arm_fma, avx2 && cpu->f16c,
             cpu->fp16_va, cpu->sse3, kernels->name, rwkv_device_backend());
}

const char * rwkv_get_system_info_string(void) {
    static char text[256];
    /* 0: not built, 1: being built by one thread, 2: ready. */
    static atomic_int state = 0;
    int expected = 0;
    if (atomic_compare_exchange_strong(&state, &expected, 1)) {
        build(text, sizeof text);
        atomic_store(&state, 2);
    }
    while (atomic_load(&state) != 2) {
        /* Another thread is writing the string: it takes microseconds. */
    }
    return text;
}
