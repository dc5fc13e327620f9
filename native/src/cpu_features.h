/* What the CPU running us supports (and the OS has enabled), detected once at run time. */
#ifndef RWKV_CPU_FEATURES_H
#define RWKV_CPU_FEATURES_H

#include <stdbool.h>

struct rwkv_cpu_features {
    bool sse3;
    bool ssse3;
    bool sse4_1;
    bool avx;        /* also requires the OS to save YMM state (XGETBV) */
    bool avx2;
    bool fma;
    bool f16c;
    bool bmi2;       /* pext: the AVX-512 level gathers Q5 high bits with it */
    bool avx512f;    /* also requires the OS to save ZMM/opmask state */
    bool avx512bw;
    bool avx512vl;
    bool avx512dq;
    bool avx512vnni;
    bool avxvnni;    /* VEX-encoded VNNI on 256-bit registers (AVX-VNNI), also without AVX-512 */
    bool neon;
    bool arm_fma;
    bool fp16_va;
    unsigned l1d_bytes; /* level-1 data cache per core, from CPUID (x86); 0 where unknown */
};

/* Detected on first call; thread-safe. */
const struct rwkv_cpu_features * rwkv_cpu_features_get(void);

#endif
