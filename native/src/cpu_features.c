/*
 * CPU feature detection. On x86 a feature counts only if the CPU reports it (CPUID) and the OS
 * saves the registers it needs across context switches (XGETBV): a CPU with AVX under an OS that
 * does not enable YMM state would fault on the first AVX instruction.
 */
#include "cpu_features.h"

#include <stdatomic.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#define RWKV_CPU_X86 1
#if defined(_MSC_VER) && !defined(__clang__)
#include <immintrin.h>
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

#ifdef RWKV_CPU_X86
static void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]) {
#if defined(_MSC_VER) && !defined(__clang__)
    int r[4];
    __cpuidex(r, (int)leaf, (int)subleaf);
    for (int i = 0; i < 4; i++) {
        regs[i] = (uint32_t)r[i];
    }
#else
    __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
#endif
}

/* XCR0: which register states the OS saves. Only valid when CPUID reports OSXSAVE. */
static uint64_t read_xcr0(void) {
#if defined(_MSC_VER) && !defined(__clang__)
    return _xgetbv(0);
#else
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
#endif
}

static bool bit(uint32_t value, int index) {
    return (value >> index) & 1;
}

/*
 * The level-1 data cache's size: Intel's deterministic cache parameters (leaf 4: ways x partitions
 * x line size x sets), else AMD's L1 cache leaf (0x80000005, ECX bits 31-24 in KiB); 0 if neither
 * reports it.
 */
static unsigned detect_l1d_bytes(uint32_t max_leaf) {
    uint32_t regs[4];
    for (uint32_t index = 0; max_leaf >= 4 && index < 16; index++) {
        cpuid(4, index, regs);
        const uint32_t type = regs[0] & 0x1f, level = (regs[0] >> 5) & 0x7;
        if (type == 0) {
            break;
        }
        if (type == 1 && level == 1) {
            const uint32_t ways = (regs[1] >> 22) + 1, partitions = ((regs[1] >> 12) & 0x3ff) + 1;
            const uint32_t line = (regs[1] & 0xfff) + 1, sets = regs[2] + 1;
            return ways * partitions * line * sets;
        }
    }
    cpuid(0x80000000u, 0, regs);
    if (regs[0] >= 0x80000005u) {
        cpuid(0x80000005u, 0, regs);
        return (regs[2] >> 24) * 1024;
    }
    return 0;
}

static void detect(struct rwkv_cpu_features * f) {
    uint32_t regs[4];
    cpuid(0, 0, regs);
    uint32_t max_leaf = regs[0];
    if (max_leaf < 1) {
        return;
    }
    f->l1d_bytes = detect_l1d_bytes(max_leaf);
    cpuid(1, 0, regs);
    uint32_t ecx1 = regs[2];
    f->sse3 = bit(ecx1, 0);
    f->ssse3 = bit(ecx1, 9);
    f->sse4_1 = bit(ecx1, 19);

    uint64_t xcr0 = bit(ecx1, 27) ? read_xcr0() : 0;
    bool os_ymm = (xcr0 & 0x6) == 0x6;          /* SSE and AVX state */
    bool os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0; /* opmask, upper ZMM0-15, ZMM16-31 */
    if (!os_ymm) {
        return;
    }
    f->avx = bit(ecx1, 28);
    f->fma = f->avx && bit(ecx1, 12);
    f->f16c = f->avx && bit(ecx1, 29);
    if (max_leaf < 7) {
        return;
    }
    cpuid(7, 0, regs);
    uint32_t ebx7 = regs[1];
    uint32_t ecx7 = regs[2];
    f->avx2 = f->avx && bit(ebx7, 5);
    f->bmi2 = bit(ebx7, 8);
    if (regs[0] >= 1) { /* leaf 7's highest subleaf */
        cpuid(7, 1, regs);
        f->avxvnni = f->avx2 && bit(regs[0], 4);
    }
    if (os_zmm) {
        f->avx512f = bit(ebx7, 16);
        f->avx512dq = f->avx512f && bit(ebx7, 17);
        f->avx512bw = f->avx512f && bit(ebx7, 30);
        f->avx512vl = f->avx512f && bit(ebx7, 31);
        f->avx512vnni = f->avx512f && bit(ecx7, 11);
    }
}
#else
static void detect(struct rwkv_cpu_features * f) {
#if defined(__aarch64__) || defined(_M_ARM64)
    f->neon = true; /* both are mandatory in AArch64 */
    f->arm_fma = true;
#if defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
    f->fp16_va = true;
#endif
#else
    (void)f;
#endif
}
#endif

static struct rwkv_cpu_features features;

/* 0: not detected, 1: a thread is detecting, 2: ready. */
static atomic_int detection_state;

const struct rwkv_cpu_features * rwkv_cpu_features_get(void) {
    if (atomic_load_explicit(&detection_state, memory_order_acquire) != 2) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&detection_state, &expected, 1)) {
            detect(&features);
            atomic_store_explicit(&detection_state, 2, memory_order_release);
        } else {
            while (atomic_load_explicit(&detection_state, memory_order_acquire) != 2) {
                /* another thread is detecting; it takes microseconds */
            }
        }
    }
    return &features;
}
