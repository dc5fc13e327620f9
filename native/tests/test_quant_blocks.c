/*
 * Quantized blocks and FP16 conversions: the edge cases of file-format.md §6-8, byte layout,
 * round-trip error bounds, sizes (§11), the shipped tiny files, and fp16.h against exhaustive and
 * hardware (F16C) references.
 */
#include <math.h>
#include <string.h>

#include "data_types.h"
#include "fp16.h"
#include "quant_blocks.h"
#include "test_util.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

#include "cpu_features.h"
#define HAVE_F16C_TEST 1
#endif

static const uint32_t QUANT_TYPES[] = { RWKV_TYPE_Q4_0, RWKV_TYPE_Q4_1, RWKV_TYPE_Q5_0, RWKV_TYPE_Q5_1,
                                        RWKV_TYPE_Q8_0 };
#define N_QUANT_TYPES (sizeof QUANT_TYPES / sizeof QUANT_TYPES[0])

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

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

static uint16_t le16(const uint8_t * p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t * p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static bool all_bytes(const uint8_t * p, size_t n, uint8_t value) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != value) {
            return false;
        }
    }
    return true;
}

static void quantize_block(uint32_t type, const float x[32], uint8_t * block) {
    rwkv_quantize_row(type, x, 32, block);
}

/* ---- FP16 ---------------------------------------------------------------------------------- */

/* Every binary16 pattern: the exact value, and back again. */
static void test_fp16_all_patterns(void) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = rwkv_fp16_to_fp32((uint16_t)h);
        uint32_t exponent = (h >> 10) & 0x1f;
        uint32_t mantissa = h & 0x3ff;
        bool negative = (h & 0x8000) != 0;
        CHECK((signbit(f) != 0) == negative);
        if (exponent == 0x1f && mantissa != 0) {
            CHECK(isnan(f));
            CHECK_EQ_INT(rwkv_fp32_to_fp16(f), (h & 0x8000) | 0x7e00);
            continue;
        }
        double magnitude = exponent == 0x1f ? INFINITY
                           : exponent == 0  ? ldexp((double)mantissa, -24)
                                            : ldexp((double)(mantissa | 0x400), (int)exponent - 25);
        CHECK_MSG((double)f == (negative ? -magnitude : magnitude), "h=0x%04x", h);
        CHECK_EQ_INT(rwkv_fp32_to_fp16(f), h);
    }
}

/*
 * Rounding without hardware help: between two neighbouring binary16 values, the exact midpoint
 * goes to the one with an even mantissa, and one float32 step either side goes to the nearer one.
 */
static void test_fp16_midpoints(void) {
    for (uint32_t h = 0; h < 0x7bff; h++) {
        for (int sign = 0; sign < 2; sign++) {
            uint16_t lo = (uint16_t)(h | (sign << 15));
            uint16_t hi = (uint16_t)((h + 1) | (sign << 15));
            float mid = (rwkv_fp16_to_fp32(lo) + rwkv_fp16_to_fp32(hi)) * 0.5f; /* exact in float32 */
            uint16_t even = (h & 1) ? hi : lo;
            CHECK_EQ_INT(rwkv_fp32_to_fp16(mid), even);
            CHECK_EQ_INT(rwkv_fp32_to_fp16(nextafterf(mid, 0.0f)), lo);
            CHECK_EQ_INT(rwkv_fp32_to_fp16(nextafterf(mid, sign ? -INFINITY : INFINITY)), hi);
        }
    }
    /* Overflow threshold 65520 (the midpoint of 65504 and 2^16), and the smallest subnormal's half. */
    CHECK_EQ_INT(rwkv_fp32_to_fp16(65519.998f), 0x7bff);
    CHECK_EQ_INT(rwkv_fp32_to_fp16(65520.0f), 0x7c00);
    CHECK_EQ_INT(rwkv_fp32_to_fp16(-65520.0f), 0xfc00);
    CHECK_EQ_INT(rwkv_fp32_to_fp16(INFINITY), 0x7c00);
    CHECK_EQ_INT(rwkv_fp32_to_fp16(ldexpf(1.0f, -25)), 0x0000);
    CHECK_EQ_INT(rwkv_fp32_to_fp16(nextafterf(ldexpf(1.0f, -25), 1.0f)), 0x0001);
    CHECK_EQ_INT(rwkv_fp32_to_fp16(-0.0f), 0x8000);
    CHECK_EQ_INT(rwkv_fp32_to_fp16(1e-30f), 0x0000);
    CHECK_EQ_INT(rwkv_fp32_to_fp16(-NAN), 0xfe00);
    CHECK_EQ_INT(rwkv_fp32_to_fp16(NAN), 0x7e00);
}

#ifdef HAVE_F16C_TEST
__attribute__((target("f16c"))) static uint16_t hardware_fp16(float f) {
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}

static void check_against_hardware(uint32_t bits, int * mismatches) {
    float f = rwkv_bits_float(bits);
    if (isnan(f)) {
        return; /* hardware keeps NaN payload bits; we return the canonical quiet NaN */
    }
    uint16_t expected = hardware_fp16(f);
    uint16_t actual = rwkv_fp32_to_fp16(f);
    if (actual != expected && (*mismatches)++ < 10) {
        fprintf(stderr, "fp32 0x%08x: ours 0x%04x, F16C 0x%04x\n", bits, actual, expected);
    }
}

/*
 * Random bit patterns, every pattern near the binary16 range edges, and the float32 neighbours of
 * each binary16 rounding boundary.
 */
static void test_fp16_against_f16c(void) {
    if (!rwkv_cpu_features_get()->f16c) {
        printf("F16C not available: hardware comparison skipped\n");
        return;
    }
    int mismatches = 0;
    for (int i = 0; i < 3000000; i++) {
        check_against_hardware(next_u32(), &mismatches);
    }
    static const uint32_t edges[] = { 0x00000000, 0x33000000, 0x33800000, 0x38800000, 0x477fe000, 0x477ff000,
                                      0x47800000, 0x7f800000 };
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
        for (uint32_t delta = 0; delta < 65536; delta++) {
            check_against_hardware(edges[e] + delta - 32768, &mismatches);
            check_against_hardware((edges[e] + delta - 32768) | 0x80000000u, &mismatches);
        }
    }
    for (uint32_t h = 0; h < 0x7c00; h++) {
        uint32_t mid = rwkv_float_bits(rwkv_fp16_to_fp32((uint16_t)h)) + 0x1000; /* normal-range midpoint bits */
        for (uint32_t delta = 0; delta < 5; delta++) {
            check_against_hardware(mid + delta - 2, &mismatches);
            check_against_hardware((mid + delta - 2) | 0x80000000u, &mismatches);
        }
    }
    CHECK_EQ_INT(mismatches, 0);
}
#endif

/* ---- Quantization edge cases (file-format.md §8 table) ------------------------------------ */

static void test_zero_blocks(void) {
    float patterns[3][32];
    for (int j = 0; j < 32; j++) {
        patterns[0][j] = 0.0f;
        patterns[1][j] = -0.0f;
        patterns[2][j] = (j % 3) ? -0.0f : 0.0f;
    }
    for (int p = 0; p < 3; p++) {
        uint8_t b[34];
        quantize_block(RWKV_TYPE_Q4_0, patterns[p], b);
        CHECK_EQ_INT(le16(b), 0x8000);
        CHECK(all_bytes(b + 2, 16, 0x88));
        quantize_block(RWKV_TYPE_Q5_0, patterns[p], b);
        CHECK_EQ_INT(le16(b), 0x8000);
        CHECK_EQ_INT(le32(b + 2), 0xffffffff);
        CHECK(all_bytes(b + 6, 16, 0));
        /* m = the first minimum, so a block of only -0.0 keeps m = -0.0 (the spec's table says 0 bytes). */
        uint16_t m = p == 1 ? 0x8000 : 0;
        quantize_block(RWKV_TYPE_Q4_1, patterns[p], b);
        CHECK_EQ_INT(le16(b + 2), m);
        CHECK(all_bytes(b, 2, 0) && all_bytes(b + 4, 16, 0));
        quantize_block(RWKV_TYPE_Q5_1, patterns[p], b);
        CHECK_EQ_INT(le16(b + 2), m);
        CHECK(all_bytes(b, 2, 0) && all_bytes(b + 4, 20, 0));
        quantize_block(RWKV_TYPE_Q8_0, patterns[p], b);
        CHECK(all_bytes(b, 34, 0));
    }
}

static void test_constant_blocks(void) {
    static const float constants[] = { 0.7f, -2.5f, 1e-3f, 300.0f };
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
        float c = constants[i];
        float x[32];
        for (int j = 0; j < 32; j++) {
            x[j] = c;
        }
        uint8_t b[34];
        quantize_block(RWKV_TYPE_Q4_0, x, b);
        CHECK_EQ_INT(le16(b), rwkv_fp32_to_fp16(-c / 8.0f));
        CHECK(all_bytes(b + 2, 16, 0));
        quantize_block(RWKV_TYPE_Q5_0, x, b);
        CHECK_EQ_INT(le16(b), rwkv_fp32_to_fp16(-c / 16.0f));
        CHECK(all_bytes(b + 2, 20, 0));
        quantize_block(RWKV_TYPE_Q4_1, x, b);
        CHECK_EQ_INT(le16(b), 0);
        CHECK_EQ_INT(le16(b + 2), rwkv_fp32_to_fp16(c));
        CHECK(all_bytes(b + 4, 16, 0));
        quantize_block(RWKV_TYPE_Q5_1, x, b);
        CHECK_EQ_INT(le16(b), 0);
        CHECK_EQ_INT(le16(b + 2), rwkv_fp32_to_fp16(c));
        CHECK(all_bytes(b + 4, 20, 0));
        quantize_block(RWKV_TYPE_Q8_0, x, b);
        CHECK_EQ_INT(le16(b), rwkv_fp32_to_fp16(fabsf(c) / 127.0f));
        CHECK(all_bytes(b + 2, 32, c > 0 ? 127 : (uint8_t)-127));
    }
}

static void test_opposite_extremes(void) {
    float x[32] = { 3.0f, -3.0f };
    uint8_t b[22];
    quantize_block(RWKV_TYPE_Q4_0, x, b);
    CHECK_EQ_INT(le16(b), rwkv_fp32_to_fp16(-0.375f));
    CHECK_EQ_INT(b[2], 0x80); /* q0 = 0, q16 = 8 */
    CHECK_EQ_INT(b[3], 0x8f); /* q1 = 15 (clamped from 16) */
    CHECK(all_bytes(b + 4, 14, 0x88));
    quantize_block(RWKV_TYPE_Q5_0, x, b);
    CHECK_EQ_INT(le16(b), rwkv_fp32_to_fp16(-0.1875f));
    CHECK_EQ_INT(le32(b + 2), 0xfffffffe); /* q0 = 0, q1 = 31 (clamped from 32), others 16 */
    CHECK_EQ_INT(b[6], 0x00);
    CHECK_EQ_INT(b[7], 0x0f);
    CHECK(all_bytes(b + 8, 14, 0x00));
}

/* The first element of largest magnitude sets the sign of d; ties go to the earliest. */
static void test_magnitude_ties(void) {
    float x[32] = { 0 };
    x[3] = -2.0f;
    x[7] = 2.0f;
    uint8_t b[22];
    quantize_block(RWKV_TYPE_Q4_0, x, b);
    CHECK_EQ_INT(le16(b), rwkv_fp32_to_fp16(0.25f));
    CHECK_EQ_INT(b[2 + 3] & 0x0f, 0);
    CHECK_EQ_INT(b[2 + 7] & 0x0f, 15);
    x[3] = 2.0f;
    x[7] = -2.0f;
    quantize_block(RWKV_TYPE_Q5_0, x, b);
    CHECK_EQ_INT(le16(b), rwkv_fp32_to_fp16(-0.125f));
    CHECK_EQ_INT(b[6 + 3] & 0x0f, 0);
    CHECK_EQ_INT(b[6 + 7] & 0x0f, 15); /* 31: low nibble 15, fifth bit set */
    CHECK_EQ_INT((le32(b + 2) >> 7) & 1, 1);
    CHECK_EQ_INT((le32(b + 2) >> 3) & 1, 0);
}

/* Scales below binary16's normal range are stored as subnormals, but quantizing uses the exact inverse. */
static void test_subnormal_scale(void) {
    float x[32];
    for (int j = 0; j < 32; j++) {
        x[j] = (float)(j - 16) * 2e-6f;
    }
    uint8_t b[34];
    quantize_block(RWKV_TYPE_Q8_0, x, b);
    uint16_t d = le16(b);
    CHECK_EQ_INT(d, rwkv_fp32_to_fp16(-x[0] / 127.0f));
    CHECK((d & 0x7c00) == 0 && d != 0);
    CHECK_EQ_INT((int8_t)b[2], -127);
    CHECK_EQ_INT((int8_t)b[2 + 31], 119);
    quantize_block(RWKV_TYPE_Q4_1, x, b);
    d = le16(b);
    CHECK_EQ_INT(d, rwkv_fp32_to_fp16((x[31] - x[0]) / 15.0f));
    CHECK((d & 0x7c00) == 0 && d != 0);
    CHECK_EQ_INT(b[4] & 0x0f, 0);
    CHECK_EQ_INT(b[4 + 15] >> 4, 15);
}

/* A scale or minimum beyond binary16's range becomes infinity, as in the reference. */
static void test_scale_overflow(void) {
    float x[32] = { 0 };
    x[5] = 1e6f;
    x[9] = -1e7f;
    uint8_t b[34];
    quantize_block(RWKV_TYPE_Q4_0, x, b);
    CHECK_EQ_INT(le16(b), 0x7c00); /* d = 1e7 / 8 */
    quantize_block(RWKV_TYPE_Q8_0, x, b);
    CHECK_EQ_INT(le16(b), 0x7c00);
    CHECK_EQ_INT((int8_t)b[2 + 9], -127);
    CHECK_EQ_INT((int8_t)b[2 + 5], 13);
    quantize_block(RWKV_TYPE_Q5_1, x, b);
    CHECK_EQ_INT(le16(b), 0x7c00);
    CHECK_EQ_INT(le16(b + 2), 0xfc00); /* m = -1e7 */
}

/* ---- Layout: integer-valued blocks quantize to known q with d = 1 ------------------------- */

static void check_nibbles(const uint8_t * qs, const uint8_t * qh, const int q[32]) {
    for (int j = 0; j < 16; j++) {
        CHECK_EQ_INT(qs[j], (q[j] & 15) | ((q[j + 16] & 15) << 4));
    }
    if (qh != NULL) {
        for (int j = 0; j < 32; j++) {
            CHECK_EQ_INT((le32(qh) >> j) & 1, q[j] >> 4);
        }
    }
}

static void test_layout(void) {
    int q[32];
    float x[32];
    float y[32];
    uint8_t b[34];
    /* q[j] = a permutation of 0..31 with the extremes first, so d = 1 for every type. */
    for (int j = 0; j < 32; j++) {
        q[j] = (j * 7 + 31) % 32;
    }

    for (int j = 0; j < 32; j++) {
        x[j] = (float)q[j];
    }
    quantize_block(RWKV_TYPE_Q5_1, x, b);
    CHECK_EQ_INT(le16(b), 0x3c00);
    CHECK_EQ_INT(le16(b + 2), 0);
    check_nibbles(b + 8, b + 4, q);
    rwkv_dequantize_row(RWKV_TYPE_Q5_1, b, 32, y);
    CHECK(memcmp(x, y, sizeof x) == 0);

    for (int j = 0; j < 32; j++) {
        x[j] = (float)(q[j] - 16);
    }
    x[0] = -16.0f; /* q[0] = 31 would be +15; make the first extreme the negative one */
    int q5[32];
    memcpy(q5, q, sizeof q5);
    q5[0] = 0;
    quantize_block(RWKV_TYPE_Q5_0, x, b);
    CHECK_EQ_INT(le16(b), 0x3c00);
    check_nibbles(b + 6, b + 2, q5);
    rwkv_dequantize_row(RWKV_TYPE_Q5_0, b, 32, y);
    CHECK(memcmp(x, y, sizeof x) == 0);

    int q4[32];
    for (int j = 0; j < 32; j++) {
        q4[j] = (j * 5 + 3) % 16;
        x[j] = (float)q4[j];
    }
    x[0] = 15.0f;
    x[1] = 0.0f;
    q4[0] = 15;
    q4[1] = 0;
    quantize_block(RWKV_TYPE_Q4_1, x, b);
    CHECK_EQ_INT(le16(b), 0x3c00);
    check_nibbles(b + 4, NULL, q4);
    rwkv_dequantize_row(RWKV_TYPE_Q4_1, b, 32, y);
    CHECK(memcmp(x, y, sizeof x) == 0);

    for (int j = 0; j < 32; j++) {
        x[j] = (float)(q4[j] - 8);
    }
    x[0] = -8.0f;
    q4[0] = 0;
    quantize_block(RWKV_TYPE_Q4_0, x, b);
    CHECK_EQ_INT(le16(b), 0x3c00);
    check_nibbles(b + 2, NULL, q4);
    rwkv_dequantize_row(RWKV_TYPE_Q4_0, b, 32, y);
    CHECK(memcmp(x, y, sizeof x) == 0);

    for (int j = 0; j < 32; j++) {
        x[j] = (float)(j * 8 - 127);
    }
    x[31] = 127.0f;
    quantize_block(RWKV_TYPE_Q8_0, x, b);
    CHECK_EQ_INT(le16(b), 0x3c00);
    for (int j = 0; j < 32; j++) {
        CHECK_EQ_INT((int8_t)b[2 + j], (int)x[j]);
    }
    rwkv_dequantize_row(RWKV_TYPE_Q8_0, b, 32, y);
    CHECK(memcmp(x, y, sizeof x) == 0);
}

/* Q8_0 rounds halves away from zero (roundf), even where adding 0.5 in float would not. */
static void test_q8_0_rounding(void) {
    float x[32] = { 0 };
    x[0] = 127.0f;
    x[1] = 2.5f;
    x[2] = -2.5f;
    x[3] = 0.49999997f;
    x[4] = 0.5f;
    uint8_t b[34];
    quantize_block(RWKV_TYPE_Q8_0, x, b);
    CHECK_EQ_INT((int8_t)b[3], 3);
    CHECK_EQ_INT((int8_t)b[4], -3);
    CHECK_EQ_INT((int8_t)b[5], 0);
    CHECK_EQ_INT((int8_t)b[6], 1);
}

/* ---- Round trips, sizes, unaligned data ---------------------------------------------------- */

/*
 * dequantize(quantize(x)) stays within half a step (a full step where Q4_0/Q5_0 clamp), plus the
 * binary16 rounding of d and m.
 */
static void test_round_trip_error(void) {
    enum { N = 32 * 512 };
    static float x[N];
    static float y[N];
    static uint8_t q[N / 32 * 34];
    for (size_t t = 0; t < N_QUANT_TYPES; t++) {
        uint32_t type = QUANT_TYPES[t];
        for (int i = 0; i < N; i++) {
            float scale = (float)(1 << (i / 32 % 8)) * 0.01f;
            x[i] = next_unit() * scale + ((type == RWKV_TYPE_Q4_1 || type == RWKV_TYPE_Q5_1) ? scale * 0.3f : 0.0f);
        }
        rwkv_quantize_row(type, x, N, q);
        rwkv_dequantize_row(type, q, N, y);
        int bad = 0;
        size_t block_bytes = rwkv_type_block_bytes(type);
        for (int blk = 0; blk < N / 32; blk++) {
            const uint8_t * block = q + blk * block_bytes;
            float d = fabsf(rwkv_fp16_to_fp32(le16(block)));
            bool affine = type == RWKV_TYPE_Q4_1 || type == RWKV_TYPE_Q5_1;
            float m = affine ? fabsf(rwkv_fp16_to_fp32(le16(block + 2))) : 0.0f;
            float step_bound = (type == RWKV_TYPE_Q4_0 || type == RWKV_TYPE_Q5_0) ? 1.0f : 0.5f;
            float bound = d * step_bound + d * 128.0f / 2048.0f + m / 2048.0f + 1e-7f;
            for (int j = 0; j < 32; j++) {
                float err = fabsf(y[blk * 32 + j] - x[blk * 32 + j]);
                if (!(err <= bound) && bad++ < 5) {
                    fprintf(stderr, "%s block %d [%d]: x=%g y=%g d=%g\n", rwkv_type_name(type), blk, j,
                            x[blk * 32 + j], y[blk * 32 + j], d);
                }
            }
        }
        CHECK_EQ_INT(bad, 0);
    }
}

static void test_sizes(void) {
    static const size_t expected[] = { 2304, 2560, 2816, 3072, 4352 };
    static const size_t types_in_size_order[] = { RWKV_TYPE_Q4_0, RWKV_TYPE_Q4_1, RWKV_TYPE_Q5_0,
                                                  RWKV_TYPE_Q5_1, RWKV_TYPE_Q8_0 };
    static float x[64 * 64];
    static uint8_t out[4352 + 16];
    for (int i = 0; i < 64 * 64; i++) {
        x[i] = next_unit();
    }
    for (int t = 0; t < 5; t++) {
        uint32_t type = (uint32_t)types_in_size_order[t];
        uint64_t bytes = 0;
        CHECK(rwkv_type_data_bytes(type, 64 * 64, &bytes));
        CHECK_EQ_INT(bytes, expected[t]);
        memset(out, 0xa5, sizeof out);
        rwkv_quantize_row(type, x, 64 * 64, out);
        CHECK(all_bytes(out + expected[t], sizeof out - expected[t], 0xa5)); /* nothing written past the end */
        CHECK(!all_bytes(out + expected[t] - 16, 16, 0xa5));
    }
}

/* Dequantizing from an odd address gives the same values (blocks are packed, never aligned). */
static void test_unaligned_dequantize(void) {
    float x[96];
    float y_aligned[96];
    float y_unaligned[96];
    uint8_t packed[3 * 34 + 8];
    uint8_t shifted[3 * 34 + 8];
    for (int i = 0; i < 96; i++) {
        x[i] = next_unit();
    }
    static const uint32_t all_types[] = { RWKV_TYPE_FP32, RWKV_TYPE_FP16, RWKV_TYPE_Q4_0, RWKV_TYPE_Q4_1,
                                          RWKV_TYPE_Q5_0, RWKV_TYPE_Q5_1, RWKV_TYPE_Q8_0 };
    for (int t = 0; t < 7; t++) {
        uint32_t type = all_types[t];
        if (type == RWKV_TYPE_FP32) {
            memcpy(packed, x, 16 * sizeof(float));
        }
        if (type == RWKV_TYPE_FP16) {
            for (int i = 0; i < 48; i++) {
                uint16_t h = rwkv_fp32_to_fp16(x[i]);
                packed[2 * i] = (uint8_t)h;
                packed[2 * i + 1] = (uint8_t)(h >> 8);
            }
        }
        size_t n = type == RWKV_TYPE_FP32 ? 16 : type == RWKV_TYPE_FP16 ? 48 : 96;
        if (rwkv_type_is_quantized(type)) {
            rwkv_quantize_row(type, x, n, packed);
        }
        memcpy(shifted + 1, packed, sizeof packed - 1);
        rwkv_dequantize_row(type, packed, n, y_aligned);
        rwkv_dequantize_row(type, shifted + 1, n, y_unaligned);
        CHECK(memcmp(y_aligned, y_unaligned, n * sizeof(float)) == 0);
        if (type == RWKV_TYPE_FP32) {
            CHECK(memcmp(y_aligned, x, n * sizeof(float)) == 0);
        }
        if (type == RWKV_TYPE_FP16) {
            for (size_t i = 0; i < n; i++) {
                CHECK(y_aligned[i] == rwkv_fp16_to_fp32(rwkv_fp32_to_fp16(x[i])));
            }
        }
    }
}

/* ---- Shipped files: quantizing the FP32 tensors reproduces the shipped blocks ------------- */

struct record {
    const char * name;
    uint32_t name_length;
    uint32_t type;
    uint64_t n_elements;
    const uint8_t * data;
    uint64_t data_bytes;
};

/* Reads the record at *pos of a model file image (file-format.md §2-3) and advances *pos. */
static bool next_record(const uint8_t * file, size_t size, size_t * pos, struct record * out) {
    size_t p = *pos;
    if (p + 12 > size) {
        return false;
    }
    uint32_t n_dims = le32(file + p);
    out->name_length = le32(file + p + 4);
    out->type = le32(file + p + 8);
    p += 12;
    if (n_dims < 1 || n_dims > 3 || p + 4 * n_dims + out->name_length > size) {
        return false;
    }
    out->n_elements = 1;
    for (uint32_t i = 0; i < n_dims; i++) {
        out->n_elements *= le32(file + p + 4 * i);
    }
    p += 4 * n_dims;
    out->name = (const char *)file + p;
    p += out->name_length;
    if (!rwkv_type_data_bytes(out->type, out->n_elements, &out->data_bytes) || p + out->data_bytes > size) {
        return false;
    }
    out->data = file + p;
    *pos = p + (size_t)out->data_bytes;
    return true;
}

static bool find_record(const uint8_t * file, size_t size, const struct record * like, struct record * out) {
    size_t pos = 24;
    while (next_record(file, size, &pos, out)) {
        if (out->name_length == like->name_length && memcmp(out->name, like->name, like->name_length) == 0) {
            return true;
        }
    }
    return false;
}

/* Every quantized tensor of the shipped file equals our quantization of the FP32 file's tensor. */
static void test_shipped_file(const char * quantized_name, uint32_t type) {
    size_t fp32_size = 0;
    size_t quant_size = 0;
    uint8_t * fp32_file = read_file(testdata_path("tiny/tiny-rwkv-7v0-834K-FP32.bin"), &fp32_size);
    uint8_t * quant_file = read_file(testdata_path(quantized_name), &quant_size);
    CHECK_MSG(fp32_file != NULL && quant_file != NULL, "test data missing: %s", quantized_name);
    int compared = 0;
    size_t pos = 24;
    struct record shipped;
    while (fp32_file != NULL && quant_file != NULL && next_record(quant_file, quant_size, &pos, &shipped)) {
        if (shipped.type != type) {
            continue;
        }
        struct record source;
        CHECK_MSG(find_record(fp32_file, fp32_size, &shipped, &source) && source.type == RWKV_TYPE_FP32 &&
                      source.n_elements == shipped.n_elements,
                  "%.*s", (int)shipped.name_length, shipped.name);
        float * x = malloc(shipped.n_elements * sizeof(float));
        uint8_t * ours = malloc(shipped.data_bytes);
        memcpy(x, source.data, shipped.n_elements * sizeof(float));
        rwkv_quantize_row(type, x, shipped.n_elements, ours);
        CHECK_MSG(memcmp(ours, shipped.data, shipped.data_bytes) == 0, "%s %.*s", quantized_name,
                  (int)shipped.name_length, shipped.name);
        free(x);
        free(ours);
        compared++;
    }
    CHECK_EQ_INT(pos, quant_size);
    CHECK_EQ_INT(compared, 72);
    free(fp32_file);
    free(quant_file);
}

int main(void) {
    test_fp16_all_patterns();
    test_fp16_midpoints();
#ifdef HAVE_F16C_TEST
    test_fp16_against_f16c();
#endif
    test_zero_blocks();
    test_constant_blocks();
    test_opposite_extremes();
    test_magnitude_ties();
    test_subnormal_scale();
    test_scale_overflow();
    test_layout();
    test_q8_0_rounding();
    test_round_trip_error();
    test_sizes();
    test_unaligned_dequantize();
    test_shipped_file("tiny/tiny-rwkv-7v0-834K-Q5_0.bin", RWKV_TYPE_Q5_0);
    test_shipped_file("tiny/tiny-rwkv-7v0-834K-Q5_1.bin", RWKV_TYPE_Q5_1);
    return test_finish("test_quant_blocks");
}
