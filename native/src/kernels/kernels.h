/*
 * Compute kernels behind one table of function pointers, chosen at run time from the CPU's features
 * (scalar baseline, AVX2+FMA+F16C, AVX-512). Forward passes call only these and the element-wise
 * helpers in ops.h, so a new instruction set or a GPU backend replaces kernels, not model code.
 *
 * Matrix products follow ggml's numerics so results track rwkv.cpp: the input vector is first
 * converted into the weight type's companion "activation" format, then dotted with each row:
 *   FP32 weights            -> float32 activations, float32 products and sums
 *   FP16 weights            -> activations rounded to FP16 (stored as the float32 values they round
 *                              to, so kernels need no conversion), float32 products and sums
 *   Q4_0, Q5_0, Q8_0        -> activations quantized to Q8_0 blocks, integer dot per block
 *   Q4_1, Q5_1              -> activations quantized to Q8_1 blocks (Q8_0 plus s = d * sum(q))
 */
#ifndef RWKV_KERNELS_H
#define RWKV_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rwkv.h"

/* A weight matrix used as y = W x: n_out rows of n_in elements, in the file's type. */
struct rwkv_matrix {
    uint32_t type;          /* enum rwkv_data_type */
    uint32_t n_in;          /* row length; a multiple of 32 for quantized types */
    uint32_t n_out;         /* number of rows */
    size_t row_bytes;       /* bytes from one row to the next */
    const uint8_t * data;   /* row 0; points into the model mapping, no alignment guaranteed */
    const void * device;    /* the same rows on a GPU (gpu/offload.h), or NULL */
};

/*
 * Activation blocks, 32 elements each, for quantized weights (natural alignment, unlike file blocks):
 *   Q8_0: d = amax / 127 (stored as binary16), q = round-half-even(x * 127 / amax)
 *   Q8_1: the same, plus s = binary16(d * sum(q))
 * as ggml's x86 (AVX2) path computes them.
 */
struct rwkv_block_q8_0 {
    uint16_t d;
    int8_t qs[32];
};

struct rwkv_block_q8_1 {
    uint16_t d;
    uint16_t s;
    int8_t qs[32];
};

/*
 * The AVX2 and AVX-512 levels read them as one record per sixteen blocks (missing blocks are all
 * zeros): the same values as the Q8_0 / Q8_1 blocks above, arranged once per matrix product
 * instead of once per weight row. The elements of each four blocks A-D (a quad) lie side by side
 * for 512-bit dot products (AVX2 takes A and B, then C and D), and the scales of all sixteen in
 * the order the kernels reduce their dot products to, so that one multiply scales sixteen blocks
 * (eight on AVX2): lane 4L + j holds block 4j + L (quad j's block L), RWKV_ACT_GROUP_LANE.
 */
struct rwkv_act_quad {
    int8_t lo[64];            /* elements 0-15 of A, then of B, C and D */
    int8_t hi[64];            /* elements 16-31 of A, B, C and D */
};

#define RWKV_ACT_GROUP_BLOCKS 16
#define RWKV_ACT_GROUP_LANE(block) (4 * ((block) % 4) + (block) / 4)

struct rwkv_act_group {
    struct rwkv_act_quad quads[4];
    /* The same elements for the sequence tiles, by dword: dword 4L + j of interleaved[k].lo (.hi)
       is dword k of quads[j]'s block L in .lo (.hi), so int32 lane 4L + j of a dot product holds
       block 4j + L alone and one accumulator sums whole blocks (rwkv_act_group_interleave). */
    struct rwkv_act_quad interleaved[4];
    float d[16];              /* per lane: the block's d */
    float s[16];              /* per lane: the block's s (0 for Q8_0 blocks) */
    int32_t offsets[16];      /* per lane: rwkv_act_group_offset(type) * (sum of the block's q) */
};

/* Fills a group record's interleaved[] from its quads[]. */
static inline void rwkv_act_group_interleave(struct rwkv_act_group * group) {
    for (int k = 0; k < 4; k++) {
        for (int lane = 0; lane < 16; lane++) {
            const struct rwkv_act_quad * quad = &group->quads[lane % 4];
            const int from = 16 * (lane / 4) + 4 * k;
            memcpy(group->interleaved[k].lo + 4 * lane, quad->lo + from, 4);
            memcpy(group->interleaved[k].hi + 4 * lane, quad->hi + from, 4);
        }
    }
}

/* As rwkv_type_block_bytes for the quantized types, but inline, so that the vector levels' block
   offsets become constants. */
static inline size_t rwkv_quant_block_bytes(uint32_t type) {
    switch (type) {
    case RWKV_TYPE_Q4_0: return 18;
    case RWKV_TYPE_Q4_1: return 20;
    case RWKV_TYPE_Q5_0: return 22;
    case RWKV_TYPE_Q5_1: return 24;
    default: return 34;
    }
}

/* Q4_1 and Q5_1 store a minimum m beside the scale d: weights are d * q + m. */
static inline bool rwkv_quant_is_affine(uint32_t type) {
    return type == RWKV_TYPE_Q4_1 || type == RWKV_TYPE_Q5_1;
}

/* The k of rwkv_act_group.offsets: the weights' stored offset (Q4_0 8, Q5_0 16; Q8_0 128 for the
   VNNI tiles, which read its signed weights as unsigned bytes plus 128); 0 for Q4_1/Q5_1. */
static inline int rwkv_act_group_offset(uint32_t weight_type) {
    switch (weight_type) {
    case RWKV_TYPE_Q4_0: return 8;
    case RWKV_TYPE_Q5_0: return 16;
    case RWKV_TYPE_Q8_0: return 128;
    default: return 0;
    }
}

/*
 * Bytes of one activation vector of n_in elements for weights of type weight_type, rounded up to a
 * multiple of 64 so it is also a valid act_stride. FP32's is the largest (4 * n_in, or more for
 * short rows, whose quantized groups are padded to sixteen blocks): a buffer sized by it fits all.
 */
size_t rwkv_act_bytes(uint32_t weight_type, size_t n_in);

/*
 * Whether decoding (one column) rereads float activations that outgrow L1. One row at a time is a
 * single sequential stream, which the hardware prefetchers follow best; but every row rereads the
 * whole activation vector, and once that takes more of the level-1 data cache than the weights
 * streaming past leave it (all but RWKV_DECODE_L1_RESERVE_BYTES), they evict it and it comes from
 * L2 on every row. Such rows are decoded in blocks instead (below). Quantized activations are
 * bytes: they stay small. Where CPUID does not give the L1 size, 32 KiB is assumed.
 *
 * Measured on both sides of the line: on an AMD EPYC (32 KiB L1), rows of 7168 and 8192 inputs
 * (28 and 32 KiB of activations) decoded 7-11% faster in blocks; on an Intel Xeon (48 KiB L1), the
 * same rows 4.7-7.3% faster in pairs (v7 1.5B, v6 1.6B, v5.2 1.5B FP16, one thread).
 */
#define RWKV_DECODE_L1_RESERVE_BYTES ((size_t)16 * 1024)
#define RWKV_DECODE_L1_DEFAULT_BYTES ((size_t)32 * 1024)
bool rwkv_decode_act_outgrows_l1(const struct rwkv_matrix * w);

/* Whether n_cols columns of w's float activations fit that share of L1 (the same budget). */
bool rwkv_float_acts_fit_l1(const struct rwkv_matrix * w, size_t n_cols);

/*
 * Decoding asks for each row's bytes this far ahead of where it reads them, into L1 (the float
 * and quantized row pairs of the x86 levels): the hardware prefetchers alone kept too few reads
 * in flight. Decode rates, old and new alternating in one process (Intel Xeon, AVX-512), one
 * thread: v7 0.4B FP16 +15% (1 KiB ahead: +9%, 4 KiB: +13%), Q5_1 +10%; v7 1.5B FP16 +10%, Q5_1
 * +8%, Q8_0 +5% (4 KiB ahead: +1%); v4 169M FP16 +22%. Two threads: v7 0.1B FP16 +24%, v7 1.5B
 * FP16 +15%, v5.2 1.5B Q5_1 +8%. JRWKV_KERNELS=avx2, one thread: v7 0.4B FP16 +18%, Q5_1 +19%.
 */
#define RWKV_DECODE_PREFETCH_BYTES 2048

/*
 * FP32 row pairs ask further ahead. At 2 KiB their rows of 768-3072 inputs read at 0.74-0.82 of
 * the probe's rate on this Xeon, at 3 KiB at 0.95-1.01 (one 768 MiB matrix, one or two threads;
 * FP16 rows do not show it). Whole FP32 models decoding, 2 -> 3 KiB alternating in one process,
 * two threads / one: v7 0.4B +33% / +33%, v7 0.1B +33% / +26%, v7 1.5B +16% / +16%; with
 * JRWKV_KERNELS=avx2, v7 0.4B +3% / +4%. Batches of eight FP32 columns measured the same at
 * either distance and keep 2 KiB, as do the quantized pairs.
 */
#define RWKV_DECODE_FP32_PREFETCH_BYTES 3072

#if defined(_MSC_VER) && !defined(__clang__)
#include <xmmintrin.h>
#define RWKV_PREFETCH_L1(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define RWKV_PREFETCH_L2(p) _mm_prefetch((const char *)(p), _MM_HINT_T1)
#else
#define RWKV_PREFETCH_L1(p) __builtin_prefetch((p), 0, 3)
#define RWKV_PREFETCH_L2(p) __builtin_prefetch((p), 0, 2)
#endif

/* Decoding's prefetch for the n bytes at bytes: each line RWKV_DECODE_PREFETCH_BYTES ahead. */
static inline void rwkv_decode_prefetch(const uint8_t * bytes, size_t n) {
    for (size_t line = 0; line < n; line += 64) {
        RWKV_PREFETCH_L1(bytes + RWKV_DECODE_PREFETCH_BYTES + line);
    }
}

/*
 * Those rows are decoded in blocks (kernels_avx2.c, kernels_avx512.c): a block's rows are read in
 * column chunks whose activations stay in L1, each row's accumulators waiting between chunks,
 * while the next block is prefetched into L2 as one sequential stream.
 */
#define RWKV_DECODE_CHUNK_ELEMENTS 2048 /* 8 KiB of float activations; a multiple of 16 */
#define RWKV_DECODE_BLOCK_MAX_ROWS 32

struct rwkv_decode_block {
    size_t begin, end;               /* this block's rows */
    const char * next, * next_stop;  /* the next block's bytes, prefetched as this one is read */
};

/* Rows per block: 256 KiB of weights, well inside L2 (1 to RWKV_DECODE_BLOCK_MAX_ROWS). */
static inline size_t rwkv_decode_block_rows(const struct rwkv_matrix * w) {
    const size_t rows = ((size_t)256 * 1024) / w->row_bytes;
    return rows < 1 ? 1 : rows > RWKV_DECODE_BLOCK_MAX_ROWS ? RWKV_DECODE_BLOCK_MAX_ROWS : rows;
}

/* The block of up to block_rows rows at begin, ending by row_end. */
static inline struct rwkv_decode_block rwkv_decode_block_at(const struct rwkv_matrix * w, size_t begin,
                                                            size_t block_rows, size_t row_end) {
    struct rwkv_decode_block block;
    block.begin = begin;
    block.end = begin + block_rows < row_end ? begin + block_rows : row_end;
    const size_t next_end = block.end + block_rows < row_end ? block.end + block_rows : row_end;
    block.next = (const char *)(w->data + block.end * w->row_bytes);
    block.next_stop = (const char *)(w->data + next_end * w->row_bytes);
    return block;
}

struct rwkv_kernels {
    /* "scalar", "avx2", "avx2vnni", "avx512", "avx512vnni", "neon". */
    const char * name;

    /*
     * Converts n_cols input vectors (n_in floats each, x_stride floats apart) into the activation
     * format for weight_type, act_stride bytes apart (act_stride >= rwkv_act_bytes, a multiple of 64).
     */
    void (*prepare_act)(uint32_t weight_type, const float * x, size_t x_stride, size_t n_in, size_t n_cols,
                        void * act, size_t act_stride);

    /*
     * y[c * y_stride + r] = dot(row r of w, activation column c) for rows [row_begin, row_end) and
     * columns c < n_cols. The value of each element must not depend on n_cols, row_begin or
     * row_end: that is what makes sequence mode equal serial mode bit for bit at any thread count.
     */
    void (*matmul)(const struct rwkv_matrix * w, const void * act, size_t act_stride, size_t n_cols,
                   float * y, size_t y_stride, size_t row_begin, size_t row_end);

    /*
     * The quantizer's step: n elements of an FP32 or FP16 row to target, byte-identical to
     * rwkv_quantize_row_portable (quant_blocks.h); scratch holds n floats.
     */
    void (*quantize_row)(uint32_t source_type, const uint8_t * source, size_t n, uint32_t target, float * scratch,
                         uint8_t * out);
};

/* quantize_row with AVX2 and F16C (quantize_avx2.c): Q4_1 and Q5_1 vectorized, other targets portable. */
void rwkv_quantize_row_avx2(uint32_t source_type, const uint8_t * source, size_t n, uint32_t target, float * scratch,
                            uint8_t * out);

/*
 * The prepare_act of every table: converting activations costs O(n_in) per column next to the
 * product's O(n_in * n_out), and one implementation makes activations identical across levels.
 */
void rwkv_prepare_act_portable(uint32_t weight_type, const float * x, size_t x_stride, size_t n_in, size_t n_cols,
                               void * act, size_t act_stride);

/* FP32/FP16 as above, quantized types as rwkv_act_group records: the reference for the vector levels'. */
void rwkv_prepare_act_groups(uint32_t weight_type, const float * x, size_t x_stride, size_t n_in, size_t n_cols,
                            void * act, size_t act_stride);

/* The AVX2 and AVX-512 levels': the same records computed with AVX2 (prepare_avx2.c) and with
   AVX-512 (prepare_avx512.c), byte for byte. */
void rwkv_prepare_act_groups_avx2(uint32_t weight_type, const float * x, size_t x_stride, size_t n_in, size_t n_cols,
                                  void * act, size_t act_stride);
void rwkv_prepare_act_groups_avx512(uint32_t weight_type, const float * x, size_t x_stride, size_t n_in, size_t n_cols,
                                   void * act, size_t act_stride);

/* The best kernels for this CPU, honouring JRWKV_KERNELS=scalar|avx2|avx2vnni|avx512|avx512vnni to ask for a lower level. */
const struct rwkv_kernels * rwkv_kernels_best(void);

/* A specific level, or NULL if this CPU or build cannot run it (for tests and benchmarks). */
const struct rwkv_kernels * rwkv_kernels_by_name(const char * name);

/* Per-ISA tables (defined only where the build compiles them). */
extern const struct rwkv_kernels rwkv_kernels_scalar;
extern const struct rwkv_kernels rwkv_kernels_avx2;
extern const struct rwkv_kernels rwkv_kernels_avx2vnni;
extern const struct rwkv_kernels rwkv_kernels_avx512;
extern const struct rwkv_kernels rwkv_kernels_avx512vnni;
extern const struct rwkv_kernels rwkv_kernels_neon; /* AArch64 */

#endif
