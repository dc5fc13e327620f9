/*
 * Random-weight models: every architecture and data type loads, evaluates to finite logits, and
 * a seed reproduces a file byte for byte; bad arguments are refused without leaving a file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rwkv.h"
#include "test_util.h"

static const enum rwkv_architecture ARCHS[] = { RWKV_ARCH_V4, RWKV_ARCH_V5_1, RWKV_ARCH_V5_2, RWKV_ARCH_V6, RWKV_ARCH_V7 };
static const char * const TYPES[] = { "FP32", "FP16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0" };

#define C 128
#define LAYERS 2
#define VOCAB 300

static bool finite_logits(const char * path, enum rwkv_architecture arch, float * logits) {
    struct rwkv_context * ctx = rwkv_init_from_file(path, 2, 0);
    CHECK_MSG(ctx != NULL, "%s: %s", path, rwkv_get_last_error_message(NULL));
    if (ctx == NULL) {
        return false;
    }
    CHECK_EQ_INT(rwkv_get_architecture(ctx), arch);
    CHECK_EQ_INT(rwkv_get_n_embed(ctx), C);
    CHECK_EQ_INT(rwkv_get_n_vocab(ctx), VOCAB);
    uint32_t tokens[16];
    for (int i = 0; i < 16; i++) {
        tokens[i] = (uint32_t)(i * 37 % VOCAB);
    }
    bool ok = rwkv_eval_sequence(ctx, tokens, 16, NULL, NULL, logits);
    float spread = 0.0f;
    for (int i = 0; ok && i < VOCAB; i++) {
        ok = isfinite(logits[i]);
        spread = fmaxf(spread, fabsf(logits[i] - logits[0]));
    }
    /* Logits that do not depend on the token would mean the weights do nothing. */
    CHECK_MSG(spread > 1e-3f, "%s: all logits equal", path);
    rwkv_free(ctx);
    return ok;
}

static void test_every_architecture_and_type(void) {
    for (size_t a = 0; a < sizeof ARCHS / sizeof ARCHS[0]; a++) {
        float fp32[VOCAB];
        for (size_t t = 0; t < sizeof TYPES / sizeof TYPES[0]; t++) {
            const char * path = temp_path("random.bin");
            CHECK_MSG(rwkv_write_random_model(path, ARCHS[a], C, LAYERS, VOCAB, TYPES[t], 42),
                      "arch %d %s: %s", (int)ARCHS[a], TYPES[t], rwkv_get_last_error_message(NULL));
            float logits[VOCAB];
            CHECK_MSG(finite_logits(path, ARCHS[a], t == 0 ? fp32 : logits), "arch %d %s: non-finite logits",
                      (int)ARCHS[a], TYPES[t]);
            if (t == 1) {
                /* Same seed, same weights: FP16 stays close to FP32. */
                float worst = 0.0f;
                for (int i = 0; i < VOCAB; i++) {
                    worst = fmaxf(worst, fabsf(logits[i] - fp32[i]));
                }
                CHECK_MSG(worst < 0.05f, "arch %d FP16 differs from FP32 by %g", (int)ARCHS[a], worst);
            }
            remove(path);
        }
    }
}

static void test_reproducible(void) {
    const char * first = temp_path("seed-a.bin");
    const char * second = temp_path("seed-b.bin");
    CHECK(rwkv_write_random_model(first, RWKV_ARCH_V7, 64, 1, 256, "Q5_1", 7));
    CHECK(rwkv_write_random_model(second, RWKV_ARCH_V7, 64, 1, 256, "Q5_1", 7));
    size_t a_size, b_size;
    uint8_t * a = read_file(first, &a_size);
    uint8_t * b = read_file(second, &b_size);
    CHECK(a != NULL && b != NULL && a_size == b_size && memcmp(a, b, a_size) == 0);
    free(b);
    CHECK(rwkv_write_random_model(second, RWKV_ARCH_V7, 64, 1, 256, "Q5_1", 8));
    b = read_file(second, &b_size);
    CHECK(b != NULL && a_size == b_size && memcmp(a, b, a_size) != 0);
    free(a);
    free(b);
    remove(first);
    remove(second);
}

static void test_refusals(void) {
    const char * path = temp_path("refused.bin");
    remove(path);
    CHECK(!rwkv_write_random_model(path, RWKV_ARCH_V7, 100, 2, 256, "FP16", 1));
    CHECK_EQ_INT(rwkv_get_last_error(NULL), RWKV_ERROR_ARGS | RWKV_ERROR_DIMENSION);
    CHECK(!rwkv_write_random_model(path, RWKV_ARCH_V7, 64, 0, 256, "FP16", 1));
    CHECK_EQ_INT(rwkv_get_last_error(NULL), RWKV_ERROR_ARGS | RWKV_ERROR_DIMENSION);
    CHECK(!rwkv_write_random_model(path, (enum rwkv_architecture)55, 64, 1, 256, "FP16", 1));
    CHECK_EQ_INT(rwkv_get_last_error(NULL), RWKV_ERROR_ARGS | RWKV_ERROR_UNSUPPORTED);
    CHECK(!rwkv_write_random_model(path, RWKV_ARCH_V4, 64, 1, 256, "Q8_1", 1));
    CHECK_EQ_INT(rwkv_get_last_error(NULL), RWKV_ERROR_ARGS | RWKV_ERROR_DATA_TYPE);
    CHECK(!rwkv_write_random_model(RWKV_TEST_TMPDIR_FOR_DIRECTORY "/missing/x.bin", RWKV_ARCH_V4, 64, 1, 256, "FP16", 1));
    CHECK_EQ_INT(rwkv_get_last_error(NULL), RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN);
    FILE * file = fopen(path, "rb");
    CHECK(file == NULL);
    if (file != NULL) {
        fclose(file);
    }
}

static void test_bandwidth(void) {
    double rate = rwkv_measure_read_bandwidth(1, 64u << 20, 2);
    printf("read bandwidth, 1 thread, 64 MiB: %.1f GB/s\n", rate);
    CHECK(rate > 0.1 && rate < 10000.0);
    CHECK(rwkv_measure_read_bandwidth(0, 64u << 20, 2) == 0.0);
}

int main(void) {
    rwkv_set_print_errors(NULL, false);
    test_every_architecture_and_type();
    test_reproducible();
    test_refusals();
    test_bandwidth();
    return test_finish("test_random_model");
}
