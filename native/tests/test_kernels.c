/*
 * Kernels at every level this CPU runs, for every weight type:
 *   (a) matmul against a double-precision product of the dequantized weights and the rounded
 *       activations, within a bound derived from float32 summation error;
 *   (b) each level against the scalar reference;
 *   (c) every element bit-identical whatever n_cols, column chunking or row range;
 *   (d) prepare_act exactly as kernels.h defines Q8_0/Q8_1 and FP16 activations;
 *   (e) dispatch (JRWKV_KERNELS as an upper bound, rwkv_kernels_by_name);
 *   (f) quantize_row byte-identical to the portable quantizer, on trained-like rows and on the
 *       blocks its fast paths hand back (zeros of both signs, equal values, non-finite, extremes);
 *   (g) quantized products bit-identical between the AVX2 level and the others on x86 (AVX2 with
 *       VNNI, AVX-512 with and without), which sum each row's blocks in the same lanes and order.
 */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200112L /* setenv */
#endif

#include <math.h>
#include <string.h>

#include "cpu_features.h"
#include "data_types.h"
#include "fp16.h"
#include "kernels/kernels.h"
#include "quant_blocks.h"
#include "test_rows.h"
#include "test_util.h"

static const uint32_t TYPES[] = { RWKV_TYPE_FP32, RWKV_TYPE_FP16, RWKV_TYPE_Q4_0, RWKV_TYPE_Q4_1,
                                  RWKV_TYPE_Q5_0, RWKV_TYPE_Q5_1, RWKV_TYPE_Q8_0 };
static const char * const LEVELS[] = { "scalar", "avx2", "avx2vnni", "avx512", "avx512vnni", "neon" };
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])
#define N_LEVELS (sizeof LEVELS / sizeof LEVELS[0])
#define MAX_COLS 9

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t next_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Uniform in [-1, 1). */
static float next_unit(void) {
    return (float)(next_u32() >> 8) / 8388608.0f - 1.0f;
}

static bool is_affine(uint32_t type) {
    return type == RWKV_TYPE_Q4_1 || type == RWKV_TYPE_Q5_1;
}

/* How a level arranges quantized activations (kernels.h). */
enum act_layout { LAYOUT_BLOCKS, LAYOUT_GROUPS };

static enum act_layout layout_of(const struct rwkv_kernels * kernels) {
#ifdef RWKV_HAVE_X86_KERNELS
    if (kernels->prepare_act == rwkv_prepare_act_groups_avx2 || kernels->prepare_act == rwkv_prepare_act_groups_avx512) {
        return LAYOUT_GROUPS;
    }
#endif
    return kernels->prepare_act == rwkv_prepare_act_groups ? LAYOUT_GROUPS : LAYOUT_BLOCKS;
}

/* Bytes a level's prepare_act writes for one column (rwkv_act_bytes rounds this up). */
static size_t act_used_bytes(enum act_layout layout, uint32_t type, size_t n_in) {
    if (!rwkv_type_is_quantized(type)) {
        return n_in * sizeof(float);
    }
    if (layout == LAYOUT_GROUPS) {
        return (n_in / 32 + 15) / 16 * sizeof(struct rwkv_act_group);
    }
    return n_in / 32 * (is_affine(type) ? sizeof(struct rwkv_block_q8_1) : sizeof(struct rwkv_block_q8_0));
}

/* The rwkv_act_group records kernels.h defines, built independently from Q8_0/Q8_1 blocks (malloc'd). */
static uint8_t * groups_from_blocks(uint32_t type, const uint8_t * blocks, size_t n_in) {
    const size_t n_blocks = n_in / 32;
    const size_t n_groups = (n_blocks + 15) / 16;
    const size_t block_bytes = is_affine(type) ? sizeof(struct rwkv_block_q8_1) : sizeof(struct rwkv_block_q8_0);
    /* Q8_0: 128, for the VNNI tiles' unsigned reading of its weights. */
    const int offset = type == RWKV_TYPE_Q4_0 ? 8 : type == RWKV_TYPE_Q5_0 ? 16 : type == RWKV_TYPE_Q8_0 ? 128 : 0;
    struct rwkv_act_group * groups = calloc(n_groups, sizeof *groups);
    for (size_t b = 0; b < n_blocks; b++) {
        struct rwkv_act_group * group = &groups[b / 16];
        const size_t in_group = b % 16;
        struct rwkv_act_quad * quad = &group->quads[in_group / 4];
        const size_t part = in_group % 4;
        /* Lane 4L + j holds block 4j + L of the group. */
        const size_t lane = 4 * part + in_group / 4;
        const int8_t * qs;
        if (is_affine(type)) {
            const struct rwkv_block_q8_1 * block = (const struct rwkv_block_q8_1 *)(blocks + b * block_bytes);
            qs = block->qs;
            group->d[lane] = rwkv_fp16_to_fp32(block->d);
            group->s[lane] = rwkv_fp16_to_fp32(block->s);
        } else {
            const struct rwkv_block_q8_0 * block = (const struct rwkv_block_q8_0 *)(blocks + b * block_bytes);
            qs = block->qs;
            group->d[lane] = rwkv_fp16_to_fp32(block->d);
        }
        int sum = 0;
        for (int j = 0; j < 16; j++) {
            quad->lo[16 * part + j] = qs[j];
            quad->hi[16 * part + j] = qs[16 + j];
            /* The sequence tiles' copy: four elements per lane, dword j / 4 of the block. */
            group->interleaved[j / 4].lo[4 * lane + j % 4] = qs[j];
            group->interleaved[j / 4].hi[4 * lane + j % 4] = qs[16 + j];
            sum += qs[j] + qs[16 + j];
        }
        group->offsets[lane] = offset * sum;
    }
    return (uint8_t *)groups;
}

/* malloc'd block with a 64-byte aligned start inside; free *raw. */
static void * alloc_aligned(size_t bytes, void ** raw) {
    *raw = malloc(bytes + 64);
    return (void *)(((uintptr_t)*raw + 63) & ~(uintptr_t)63);
}

struct test_matrix {
    struct rwkv_matrix w;
    uint8_t * storage;  /* w.data is storage + 3: weights are never aligned in a model file */
    float * dequantized; /* n_out x n_in */
};

/* Random rows with varied scales, an all-zero row, and (quantized) an all-zero block. */
static void make_matrix(uint32_t type, size_t n_in, size_t n_out, struct test_matrix * m) {
    size_t block_elems = rwkv_type_block_elems(type);
    size_t row_bytes = n_in / block_elems * rwkv_type_block_bytes(type);
    m->storage = malloc(row_bytes * n_out + 3);
    m->dequantized = malloc(n_in * n_out * sizeof(float));
    m->w = (struct rwkv_matrix){ type, (uint32_t)n_in, (uint32_t)n_out, row_bytes, m->storage + 3 };
    float * row = malloc(n_in * sizeof(float));
    for (size_t r = 0; r < n_out; r++) {
        float scale = ldexpf(1.0f, (int)(r % 7) - 3);
        float offset = (r % 3 == 1) ? 0.4f * scale : 0.0f;
        for (size_t i = 0; i < n_in; i++) {
            bool zero = r == n_out / 2 || (i / 32 == 1 && r % 5 == 2);
            row[i] = zero ? 0.0f : next_unit() * scale + offset;
        }
        uint8_t * out = (uint8_t *)m->w.data + r * row_bytes;
        encode_row(type, row, n_in, out);
        if (type == RWKV_TYPE_Q8_0 && r % 4 == 3) {
            memset(out + 2, 0x80, 5); /* -128: never made by the quantizer, but a valid file value */
        }
        rwkv_dequantize_row(type, out, n_in, m->dequantized + r * n_in);
    }
    free(row);
}

static void free_matrix(struct test_matrix * m) {
    free(m->storage);
    free(m->dequantized);
}

/* Inputs: random columns of varied scale; column 1 all zero; column 2 holds exact rounding ties. */
static void make_inputs(float * x, size_t x_stride, size_t n_in, size_t n_cols) {
    for (size_t c = 0; c < n_cols; c++) {
        float scale = ldexpf(1.0f, (int)(c % 5) * 3 - 6);
        for (size_t i = 0; i < n_in; i++) {
            float value = next_unit() * scale;
            if (c == 1) {
                value = 0.0f;
            } else if (c == 2) {
                value = (i % 32 == 0) ? 127.0f : (float)((int)(next_u32() % 255) - 127) * 0.5f;
            }
            x[c * x_stride + i] = value;
        }
    }
}

/* The activation value of element i as a kernel sees it. */
static double activation_value(uint32_t type, const uint8_t * act, size_t i) {
    if (type == RWKV_TYPE_FP32 || type == RWKV_TYPE_FP16) {
        return ((const float *)act)[i];
    }
    if (is_affine(type)) {
        const struct rwkv_block_q8_1 * b = (const struct rwkv_block_q8_1 *)act + i / 32;
        return (double)rwkv_fp16_to_fp32(b->d) * b->qs[i % 32];
    }
    const struct rwkv_block_q8_0 * b = (const struct rwkv_block_q8_0 *)act + i / 32;
    return (double)rwkv_fp16_to_fp32(b->d) * b->qs[i % 32];
}

/*
 * Exact product of dequantized weights and activations, plus, for Q4_1/Q5_1, the difference the
 * kernels see because they use s = fp16(d * sum q) in place of d * sum q. *magnitude receives the
 * sum of |terms|, which bounds float32 rounding error.
 */
static double reference_dot(const struct test_matrix * m, size_t r, const uint8_t * act, double * magnitude) {
    const struct rwkv_matrix * w = &m->w;
    const float * row = m->dequantized + r * w->n_in;
    double sum = 0.0;
    double abs_sum = 0.0;
    for (size_t i = 0; i < w->n_in; i++) {
        double term = (double)row[i] * activation_value(w->type, act, i);
        sum += term;
        abs_sum += fabs(term);
    }
    if (is_affine(w->type)) {
        const struct rwkv_block_q8_1 * x = (const struct rwkv_block_q8_1 *)act;
        for (size_t b = 0; b < w->n_in / 32; b++) {
            const uint8_t * block = w->data + r * w->row_bytes + b * rwkv_type_block_bytes(w->type);
            uint16_t m_bits;
            memcpy(&m_bits, block + 2, 2);
            double min = rwkv_fp16_to_fp32(m_bits);
            int sum_q = 0;
            for (int j = 0; j < 32; j++) {
                sum_q += x[b].qs[j];
            }
            double s = rwkv_fp16_to_fp32(x[b].s);
            sum += min * (s - (double)rwkv_fp16_to_fp32(x[b].d) * sum_q);
            abs_sum += fabs(min * s);
        }
    }
    *magnitude = abs_sum;
    return sum;
}

/* Worst-case float32 error of the kernels' sums: at most n_in / 8 + 8 roundings of the magnitude. */
static double tolerance(size_t n_in, double magnitude) {
    return ((double)n_in / 8.0 + 8.0) * ldexp(1.0, -24) * magnitude;
}

struct run {
    const struct rwkv_kernels * kernels;
    const struct test_matrix * m;
    const uint8_t * act;
    size_t act_stride;
    size_t n_cols;
    size_t y_stride;
};

static void matmul_rows(const struct run * run, float * y, size_t col_begin, size_t col_end, size_t row_begin,
                        size_t row_end) {
    run->kernels->matmul(&run->m->w, run->act + col_begin * run->act_stride, run->act_stride, col_end - col_begin,
                         y + col_begin * run->y_stride, run->y_stride, row_begin, row_end);
}

static bool same_bits(const float * a, const float * b, size_t n_out, size_t n_cols, size_t stride) {
    for (size_t c = 0; c < n_cols; c++) {
        if (memcmp(a + c * stride, b + c * stride, n_out * sizeof(float)) != 0) {
            return false;
        }
    }
    return true;
}

/* (c): one column at a time, columns in pairs, and rows split at awkward points, all bit-identical. */
static void check_invariance(const struct run * run, const float * y_all, const char * label) {
    size_t n_out = run->m->w.n_out;
    size_t elems = run->n_cols * run->y_stride;
    float * y = malloc(elems * sizeof(float));

    memset(y, 0, elems * sizeof(float));
    for (size_t c = 0; c < run->n_cols; c++) {
        matmul_rows(run, y, c, c + 1, 0, n_out);
    }
    CHECK_MSG(same_bits(y, y_all, n_out, run->n_cols, run->y_stride), "%s: one column at a time", label);

    memset(y, 0, elems * sizeof(float));
    for (size_t c = 0; c < run->n_cols; c += 2) {
        matmul_rows(run, y, c, c + 2 < run->n_cols ? c + 2 : run->n_cols, 0, n_out);
    }
    CHECK_MSG(same_bits(y, y_all, n_out, run->n_cols, run->y_stride), "%s: columns in pairs", label);

    const size_t splits[] = { 1, 3, 4, 5, 9, n_out / 2, n_out - 1, n_out };
    memset(y, 0, elems * sizeof(float));
    size_t begin = 0;
    for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
        if (splits[s] > begin && splits[s] <= n_out) {
            matmul_rows(run, y, 0, run->n_cols, begin, splits[s]);
            begin = splits[s];
        }
    }
    CHECK_MSG(same_bits(y, y_all, n_out, run->n_cols, run->y_stride), "%s: split rows", label);

    /* A row range writes exactly its rows (threads share y). */
    for (size_t i = 0; i < elems; i++) {
        y[i] = NAN;
    }
    size_t begin_row = n_out / 3;
    size_t end_row = n_out - n_out / 4;
    matmul_rows(run, y, 0, run->n_cols, begin_row, end_row);
    bool exact_range = true;
    for (size_t c = 0; c < run->n_cols; c++) {
        for (size_t r = 0; r < n_out; r++) {
            bool inside = r >= begin_row && r < end_row;
            exact_range &= inside ? !isnan(y[c * run->y_stride + r]) : isnan(y[c * run->y_stride + r]);
        }
    }
    CHECK_MSG(exact_range, "%s: rows [%zu, %zu) only", label, begin_row, end_row);
    free(y);
}

/* (a), (b), (c) for one matrix shape and type at every level. */
static void test_case(uint32_t type, size_t n_in, size_t n_out, size_t n_cols) {
    struct test_matrix m;
    make_matrix(type, n_in, n_out, &m);
    size_t x_stride = n_in + 3;
    float * x = malloc(x_stride * n_cols * sizeof(float));
    make_inputs(x, x_stride, n_in, n_cols);

    size_t act_stride = rwkv_act_bytes(type, n_in) + 64;
    void * act_raw;
    uint8_t * act = alloc_aligned(act_stride * n_cols, &act_raw);
    uint8_t * act_level = malloc(act_stride * n_cols);
    rwkv_prepare_act_portable(type, x, x_stride, n_in, n_cols, act, act_stride);

    size_t y_stride = n_out + 5;
    float * y = malloc(y_stride * n_cols * sizeof(float));
    float * y_scalar = malloc(y_stride * n_cols * sizeof(float));
    float * y_avx2 = malloc(y_stride * n_cols * sizeof(float));
    bool have_avx2 = false;
    double * reference = malloc(n_out * n_cols * sizeof(double));
    double * tol = malloc(n_out * n_cols * sizeof(double));
    for (size_t c = 0; c < n_cols; c++) {
        for (size_t r = 0; r < n_out; r++) {
            double magnitude;
            reference[c * n_out + r] = reference_dot(&m, r, act + c * act_stride, &magnitude);
            tol[c * n_out + r] = tolerance(n_in, magnitude);
        }
    }

    for (size_t level = 0; level < N_LEVELS; level++) {
        const struct rwkv_kernels * kernels = rwkv_kernels_by_name(LEVELS[level]);
        if (kernels == NULL) {
            continue;
        }
        char label[96];
        snprintf(label, sizeof label, "%s %s %zux%zu cols %zu", kernels->name, rwkv_type_name(type), n_out, n_in,
                 n_cols);

        /* Not zeros: every byte the kernels read must be written by prepare_act itself. */
        memset(act_level, 0xa5, act_stride * n_cols);
        kernels->prepare_act(type, x, x_stride, n_in, n_cols, act_level, act_stride);
        bool same_act = true;
        for (size_t c = 0; c < n_cols; c++) {
            uint8_t * expected = act + c * act_stride;
            enum act_layout layout = layout_of(kernels);
            if (rwkv_type_is_quantized(type) && layout == LAYOUT_GROUPS) {
                expected = groups_from_blocks(type, act + c * act_stride, n_in);
            }
            same_act &= memcmp(act_level + c * act_stride, expected, act_used_bytes(layout, type, n_in)) == 0;
            if (expected != act + c * act_stride) {
                free(expected);
            }
        }
        CHECK_MSG(same_act, "%s: prepare_act", label);

        for (size_t i = 0; i < y_stride * n_cols; i++) {
            y[i] = NAN; /* padding between columns must stay untouched */
        }
        struct run run = { kernels, &m, act_level, act_stride, n_cols, y_stride };
        matmul_rows(&run, y, 0, n_cols, 0, n_out);

        int bad = 0;
        for (size_t c = 0; c < n_cols; c++) {
            for (size_t r = 0; r < y_stride; r++) {
                float value = y[c * y_stride + r];
                if (r >= n_out) {
                    bad += !isnan(value);
                    continue;
                }
                double error = fabs((double)value - reference[c * n_out + r]);
                double error_vs_scalar = level == 0 ? 0.0 : fabs((double)value - y_scalar[c * y_stride + r]);
                if (!(error <= tol[c * n_out + r]) || !(error_vs_scalar <= 2 * tol[c * n_out + r])) {
                    if (bad++ < 3) {
                        fprintf(stderr, "%s: y[%zu][%zu] = %.9g, reference %.9g, scalar %.9g, tolerance %.3g\n",
                                label, c, r, value, reference[c * n_out + r], y_scalar[c * y_stride + r],
                                tol[c * n_out + r]);
                    }
                }
            }
        }
        CHECK_MSG(bad == 0, "%s: %d wrong elements", label, bad);
        check_invariance(&run, y, label);
        if (level == 0) {
            memcpy(y_scalar, y, y_stride * n_cols * sizeof(float));
        }
        /* (g) */
        if (rwkv_type_is_quantized(type) && strcmp(kernels->name, "avx2") == 0) {
            memcpy(y_avx2, y, y_stride * n_cols * sizeof(float));
            have_avx2 = true;
        } else if (rwkv_type_is_quantized(type) && have_avx2 && strncmp(kernels->name, "avx", 3) == 0) {
            CHECK_MSG(same_bits(y, y_avx2, n_out, n_cols, y_stride), "%s: the same bits as avx2", label);
        }
    }
    free(reference);
    free(tol);
    free(y);
    free(y_scalar);
    free(y_avx2);
    free(act_raw);
    free(act_level);
    free(x);
    free_matrix(&m);
}

static void test_matmul_shapes(void) {
    /* 4100, 8200 and 12300: float activations of just over 16, 32 and 48 KiB, past the line where
       decoding takes rows in blocks of column chunks for L1 sizes of 32, 48 and 64 KiB (kernels.h). */
    static const size_t n_ins_float[] = { 1, 7, 33, 100, 32, 64, 96, 128, 256, 2048, 4096, 4100, 8200, 12300 };
    /* 544 and 768: whole groups of sixteen blocks and a partial one (AVX-512). */
    static const size_t n_ins_quant[] = { 32, 64, 96, 128, 256, 544, 768, 2048, 4096 };
    static const size_t n_outs[] = { 1, 3, 17, 64, 257 };
    size_t counter = 0;
    for (size_t t = 0; t < N_TYPES; t++) {
        bool quantized = rwkv_type_is_quantized(TYPES[t]);
        const size_t * n_ins = quantized ? n_ins_quant : n_ins_float;
        size_t n_n_ins = quantized ? sizeof n_ins_quant / sizeof(size_t) : sizeof n_ins_float / sizeof(size_t);
        for (size_t i = 0; i < n_n_ins; i++) {
            for (size_t o = 0; o < sizeof n_outs / sizeof n_outs[0]; o++) {
                /* Cycle through 1..9 columns; the largest shapes use fewer to keep the test quick. */
                size_t n_cols = 1 + counter++ % MAX_COLS;
                if (n_ins[i] * n_outs[o] > 256 * 1024 && n_cols > 4) {
                    n_cols = 4;
                }
                test_case(TYPES[t], n_ins[i], n_outs[o], n_cols);
            }
        }
        for (size_t n_cols = 1; n_cols <= MAX_COLS; n_cols++) {
            test_case(TYPES[t], quantized ? 96 : 100, 17, n_cols);
        }
        if (quantized) {
            /* Eight columns of rows long enough to be multiplied in slices (AVX-512): eight whole
               groups and a partial one, and more rows than one sliced tile holds. */
            test_case(TYPES[t], 4192, 17, 9);
            test_case(TYPES[t], 4096, 65, 8);
            /* A batch of eight columns over rows of whole groups and a partial one, taken four
               rows at a time group by group (AVX-512), with two, one and three rows left over. */
            test_case(TYPES[t], 4192, 11, 8);
            /* ...and over rows of fewer groups, whole rows in two streams, the last one half a
               group (v4 169M's and v7 0.1B's rows of 768), with an odd row left over. */
            test_case(TYPES[t], 768, 13, 8);
        } else {
            /* Float rows multiplied in slices (AVX-512, 16 columns or more): four column passes
               and two columns left over, a partial last slice, more rows than one sliced tile
               holds and rows left over from the 4-row tiles. */
            test_case(TYPES[t], 4100, 67, 18);
            /* Batches of eight columns whose activations fit L1 (AVX-512: rows in pairs against all
               eight), for L1 sizes of 32 KiB and up, with a partial last step and an odd row. */
            test_case(TYPES[t], 500, 33, 8);
            test_case(TYPES[t], 1000, 33, 8);
            /* ...rows of large matrices three at a time, a partial last step, one row left over. */
            test_case(TYPES[t], 300, 4099, 8);
            /* ...and whose activations outgrow it (rows of two pairs in chunks, a partial last
               chunk and step), with a pair and a row left over. */
            test_case(TYPES[t], 2100, 11, 8);
        }
    }
}

/* (d) */
static void test_prepare_act(void) {
    enum { N = 96 };
    float x[N];
    for (int i = 0; i < N; i++) {
        x[i] = next_unit() * 3.0f;
    }
    for (int i = 32; i < 64; i++) {
        x[i] = 0.0f; /* an all-zero block: d = 0, q = 0 */
    }
    x[64] = 127.0f; /* id = 1: the halves below are exact ties, rounded to even */
    x[65] = 2.5f;
    x[66] = -2.5f;
    x[67] = 3.5f;
    x[68] = 0.5f;
    x[69] = -126.5f;

    for (size_t level = 0; level < N_LEVELS; level++) {
        const struct rwkv_kernels * kernels = rwkv_kernels_by_name(LEVELS[level]);
        if (kernels == NULL) {
            continue;
        }
        struct rwkv_block_q8_1 q8_1[N / 32];
        struct rwkv_block_q8_0 q8_0[N / 32];
        float rounded[N];
        /* The values every level uses, in the standard block layout (the vector levels rearrange
           them into group records; the matmul checks compare that arrangement). */
        rwkv_prepare_act_portable(RWKV_TYPE_Q5_1, x, N, N, 1, q8_1, sizeof q8_1);
        rwkv_prepare_act_portable(RWKV_TYPE_Q8_0, x, N, N, 1, q8_0, sizeof q8_0);
        kernels->prepare_act(RWKV_TYPE_FP16, x, N, N, 1, rounded, sizeof rounded);
        for (int b = 0; b < N / 32; b++) {
            float amax = 0.0f;
            for (int j = 0; j < 32; j++) {
                amax = fmaxf(amax, fabsf(x[b * 32 + j]));
            }
            float id = amax != 0.0f ? 127.0f / amax : 0.0f;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                long q = lrintf(x[b * 32 + j] * id);
                CHECK_EQ_INT(q8_0[b].qs[j], q);
                CHECK_EQ_INT(q8_1[b].qs[j], q);
                sum += (int)q;
            }
            CHECK_EQ_INT(q8_0[b].d, rwkv_fp32_to_fp16(amax / 127.0f));
            CHECK_EQ_INT(q8_1[b].d, rwkv_fp32_to_fp16(amax / 127.0f));
            CHECK_EQ_INT(q8_1[b].s, rwkv_fp32_to_fp16(amax / 127.0f * (float)sum));
        }
        CHECK_EQ_INT(q8_0[1].d, 0);
        CHECK_EQ_INT(q8_0[2].qs[1], 2);
        CHECK_EQ_INT(q8_0[2].qs[2], -2);
        CHECK_EQ_INT(q8_0[2].qs[3], 4);
        CHECK_EQ_INT(q8_0[2].qs[4], 0);
        CHECK_EQ_INT(q8_0[2].qs[5], -126);
        for (int i = 0; i < N; i++) {
            CHECK(rounded[i] == rwkv_fp16_to_fp32(rwkv_fp32_to_fp16(x[i])));
        }
    }
    CHECK_EQ_INT(sizeof(struct rwkv_act_group), 1216);
    CHECK_EQ_INT(rwkv_act_bytes(RWKV_TYPE_FP32, 1024), 4096);
    /* Short rows: a quantized group record (padded to sixteen blocks) outweighs the floats. */
    CHECK_EQ_INT(rwkv_act_bytes(RWKV_TYPE_FP32, 100), 1216);
    CHECK_EQ_INT(rwkv_act_bytes(RWKV_TYPE_FP16, 64), 1216);
    CHECK_EQ_INT(rwkv_act_bytes(RWKV_TYPE_Q8_0, 64), 1216); /* one (mostly empty) group record */
    CHECK_EQ_INT(rwkv_act_bytes(RWKV_TYPE_Q5_1, 2048), 4 * sizeof(struct rwkv_act_group));
    static const size_t n_ins[] = { 32, 96, 512, 4096 };
    for (size_t t = 0; t < N_TYPES; t++) {
        for (size_t i = 0; i < sizeof n_ins / sizeof n_ins[0]; i++) {
            const size_t n = n_ins[i];
            CHECK(rwkv_act_bytes(TYPES[t], n) >= act_used_bytes(LAYOUT_BLOCKS, TYPES[t], n));
            CHECK(rwkv_act_bytes(TYPES[t], n) >= act_used_bytes(LAYOUT_GROUPS, TYPES[t], n));
            CHECK(rwkv_act_bytes(TYPES[t], n) <= rwkv_act_bytes(RWKV_TYPE_FP32, n));
        }
    }
}

/*
 * Every level's activations are the portable ones (quantized: rearranged), byte for byte, also for
 * inputs that stress the conversion: NaN and infinities, values past 127 * d, subnormals, exact
 * ties, all-zero blocks, and a last quad with one, two or three blocks.
 */
static void test_prepare_act_edges(void) {
    /* Partial groups, a whole group of 16 blocks (converted at once on AVX-512), more than one. */
    enum { MAX_BLOCKS = 37, COLS = 3 };
    static const size_t BLOCK_COUNTS[] = { 1, 4, 7, 10, 16, 24, MAX_BLOCKS };
    float x[COLS * MAX_BLOCKS * 32];
    for (size_t count = 0; count < sizeof BLOCK_COUNTS / sizeof BLOCK_COUNTS[0]; count++) {
        const size_t n_blocks = BLOCK_COUNTS[count];
        const size_t n_in = n_blocks * 32;
        for (size_t i = 0; i < COLS * n_in; i++) {
            switch (next_u32() % 10) {
            case 0: x[i] = (next_u32() & 1) ? NAN : -NAN; break;
            case 1: x[i] = (next_u32() & 1) ? INFINITY : -INFINITY; break;
            case 2: x[i] = ldexpf(next_unit(), -140); break; /* subnormal */
            case 3: x[i] = 0.0f; break;
            case 4: x[i] = (float)((int)(next_u32() % 255) - 127) * 0.5f; break;
            default: x[i] = next_unit() * ldexpf(1.0f, (int)(next_u32() % 40) - 20); break;
            }
        }
        for (size_t i = 0; i < 32; i++) {
            x[i] = i == 0 ? 127.0f : x[i]; /* block 0: amax 127 at most unless an infinity is drawn */
            x[n_in + i] = 0.0f;              /* column 1, block 0: all zero */
        }
        for (size_t t = 0; t < N_TYPES; t++) {
            const uint32_t type = TYPES[t];
            const size_t stride = rwkv_act_bytes(type, n_in);
            uint8_t * blocks = calloc(COLS, stride);
            uint8_t * act = calloc(COLS, stride);
            rwkv_prepare_act_portable(type, x, n_in, n_in, COLS, blocks, stride);
            for (size_t level = 0; level < N_LEVELS; level++) {
                const struct rwkv_kernels * kernels = rwkv_kernels_by_name(LEVELS[level]);
                if (kernels == NULL) {
                    continue;
                }
                const enum act_layout layout = layout_of(kernels);
                memset(act, 0xa5, COLS * stride);
                kernels->prepare_act(type, x, n_in, n_in, COLS, act, stride);
                for (size_t c = 0; c < COLS; c++) {
                    uint8_t * expected = blocks + c * stride;
                    if (rwkv_type_is_quantized(type) && layout == LAYOUT_GROUPS) {
                        expected = groups_from_blocks(type, blocks + c * stride, n_in);
                    }
                    CHECK_MSG(memcmp(act + c * stride, expected, act_used_bytes(layout, type, n_in)) == 0,
                              "%s %s: edge-case activations, %zu blocks, column %zu", kernels->name,
                              rwkv_type_name(type), n_blocks, c);
                    if (expected != blocks + c * stride) {
                        free(expected);
                    }
                }
            }
            free(blocks);
            free(act);
        }
    }
}

/* Where decoding switches to blocks of column chunks: activations of 16 KiB or less never, more
   than the level-1 data cache always (32 KiB assumed where CPUID does not say). */
static void test_decode_l1_line(void) {
    const unsigned l1 = rwkv_cpu_features_get()->l1d_bytes;
#ifdef RWKV_HAVE_X86_KERNELS
    CHECK_MSG(l1 == 0 || (l1 >= 16 * 1024 && l1 <= 1024 * 1024 && l1 % 1024 == 0), "L1 data cache of %u bytes", l1);
#endif
    const size_t known = l1 > RWKV_DECODE_L1_RESERVE_BYTES ? l1 : RWKV_DECODE_L1_DEFAULT_BYTES;
    struct rwkv_matrix w = { RWKV_TYPE_FP32, 4096, 1, 4096 * 4, NULL, NULL };
    CHECK(!rwkv_decode_act_outgrows_l1(&w));
    w.n_in = (uint32_t)(known / 4 + 16);
    w.row_bytes = w.n_in * 4;
    CHECK(rwkv_decode_act_outgrows_l1(&w));
    w.type = RWKV_TYPE_FP16;
    w.row_bytes = w.n_in * 2;
    CHECK(rwkv_decode_act_outgrows_l1(&w)); /* FP16 weights, float activations */
    w.type = RWKV_TYPE_Q8_0;
    w.n_in = 65536;
    w.row_bytes = 65536 / 32 * 34;
    CHECK(!rwkv_decode_act_outgrows_l1(&w)); /* byte activations */
    printf("L1 data cache: %u bytes (0: unknown)\n", l1);
}

/* (e) */
static void test_dispatch(void) {
#if defined(_WIN32)
    _putenv_s("JRWKV_KERNELS", "avx2");
#else
    setenv("JRWKV_KERNELS", "avx2", 1);
#endif
    const struct rwkv_kernels * expected = rwkv_kernels_by_name("avx2");
    if (expected == NULL) {
        expected = rwkv_kernels_by_name("scalar");
    }
    CHECK(rwkv_kernels_best() == expected);
    CHECK(rwkv_kernels_best() == expected); /* cached */
    CHECK(rwkv_kernels_by_name("scalar") == &rwkv_kernels_scalar);
#ifdef RWKV_HAVE_NEON_KERNELS
    CHECK(rwkv_kernels_by_name("neon") != NULL); /* every AArch64 CPU has NEON */
#else
    CHECK(rwkv_kernels_by_name("neon") == NULL);
#endif
    CHECK(rwkv_kernels_by_name(NULL) == NULL);
    test_decode_l1_line();

    const struct rwkv_cpu_features * cpu = rwkv_cpu_features_get();
    bool has_avx2 = cpu->avx2 && cpu->fma && cpu->f16c;
    bool has_avx512 = has_avx2 && cpu->bmi2 && cpu->avx512f && cpu->avx512bw && cpu->avx512vl && cpu->avx512dq;
#ifdef RWKV_HAVE_X86_KERNELS
    CHECK((rwkv_kernels_by_name("avx2") != NULL) == has_avx2);
    CHECK((rwkv_kernels_by_name("avx512") != NULL) == has_avx512);
#ifdef RWKV_HAVE_AVX2_VNNI_KERNELS
    CHECK((rwkv_kernels_by_name("avx2vnni") != NULL) == (has_avx2 && cpu->avxvnni));
#else
    CHECK(rwkv_kernels_by_name("avx2vnni") == NULL);
#endif
#else
    CHECK(rwkv_kernels_by_name("avx2") == NULL && rwkv_kernels_by_name("avx512") == NULL);
#endif
    printf("CPU: avx2 %d, avx-vnni %d, avx512 %d, avx512-vnni %d; levels tested:", has_avx2, cpu->avxvnni, has_avx512,
           cpu->avx512vnni);
    for (size_t level = 0; level < N_LEVELS; level++) {
        if (rwkv_kernels_by_name(LEVELS[level]) != NULL) {
            printf(" %s", LEVELS[level]);
        }
    }
    printf("\n");
}

/* One block of 32 floats of a kind the vector quantizers must get exactly right. */
static void fill_block(int kind, float * x) {
    for (int j = 0; j < 32; j++) {
        x[j] = next_unit() * 0.05f;
    }
    switch (kind % 12) {
    case 0: break; /* trained-like */
    case 1: x[next_u32() % 32] = 0.0f; break;
    case 2: x[next_u32() % 32] = -0.0f; x[next_u32() % 32] = 0.0f; break;
    case 3: for (int j = 0; j < 32; j++) x[j] = fabsf(x[j]); x[next_u32() % 32] = -0.0f; break; /* min -0 */
    case 4: for (int j = 0; j < 32; j++) x[j] = -fabsf(x[j]) - 1e-3f; x[5] = 0.0f; x[9] = -0.0f; break; /* max 0 */
    case 5: for (int j = 0; j < 32; j++) x[j] = 0.375f; break; /* all equal: d = 0 */
    case 6: for (int j = 0; j < 32; j++) x[j] = (j & 1) ? -0.0f : 0.0f; break;
    case 7: x[next_u32() % 32] = (next_u32() & 1) ? INFINITY : -INFINITY; break;
    case 8: x[next_u32() % 32] = NAN; break;
    case 9: for (int j = 0; j < 32; j++) x[j] = next_unit() * 1e-7f; break; /* FP16 subnormals */
    case 10: x[0] = 60000.0f; x[1] = -60000.0f; break; /* range near FP16's largest */
    case 11: for (int j = 0; j < 32; j++) x[j] = 1.0f + (float)j * 1.1920929e-7f; break; /* tiny range */
    }
}

/* (f) */
static void test_quantize_row(void) {
    static const uint32_t targets[] = { RWKV_TYPE_Q4_0, RWKV_TYPE_Q4_1, RWKV_TYPE_Q5_0, RWKV_TYPE_Q5_1,
                                        RWKV_TYPE_Q8_0 };
    enum { BLOCKS = 240, N = BLOCKS * 32 };
    static float values[N], scratch[N];
    static uint8_t source[N * 4], expected[N * 2], actual[N * 2];
    for (int b = 0; b < BLOCKS; b++) {
        fill_block(b, values + 32 * b);
    }
    for (int source_fp16 = 0; source_fp16 < 2; source_fp16++) {
        const uint32_t source_type = source_fp16 ? RWKV_TYPE_FP16 : RWKV_TYPE_FP32;
        for (size_t i = 0; i < N; i++) {
            if (source_fp16) {
                uint16_t h = rwkv_fp32_to_fp16(values[i]);
                memcpy(source + 2 * i, &h, 2);
            } else {
                memcpy(source + 4 * i, &values[i], 4);
            }
        }
        for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
            const size_t out_bytes = N / 32 * rwkv_type_block_bytes(targets[t]);
            rwkv_quantize_row_portable(source_type, source, N, targets[t], scratch, expected);
            for (size_t level = 0; level < N_LEVELS; level++) {
                const struct rwkv_kernels * kernels = rwkv_kernels_by_name(LEVELS[level]);
                if (kernels == NULL) {
                    continue;
                }
                memset(actual, 0xa5, sizeof actual);
                kernels->quantize_row(source_type, source, N, targets[t], scratch, actual);
                size_t first_diff = out_bytes;
                for (size_t i = 0; i < out_bytes && first_diff == out_bytes; i++) {
                    first_diff = actual[i] != expected[i] ? i : out_bytes;
                }
                CHECK_MSG(first_diff == out_bytes, "%s quantize_row %s -> %s: byte %zu (block %zu) differs",
                          LEVELS[level], rwkv_type_name(source_type), rwkv_type_name(targets[t]), first_diff,
                          first_diff / rwkv_type_block_bytes(targets[t]));
            }
        }
    }
}

int main(void) {
    test_dispatch();
    test_quantize_row();
    test_prepare_act();
    test_prepare_act_edges();
    test_matmul_shapes();
    return test_finish("test_kernels");
}
