/*
 * API behaviour (c-api.md §2, §6): serial = sequence = chunked bit for bit, cloning, logits
 * skipping, NULL state, thread-count independence, argument errors and the error slots.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "tiny_models.h"

static const char LONG_PROMPT[] = "This is a port of [BlinkDL/RWKV-LM](https://github.com/BlinkDL/RWKV-LM";

static size_t to_tokens(const char * text, uint32_t * tokens) {
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i++) {
        tokens[i] = (unsigned char)text[i];
    }
    return n;
}

static struct rwkv_context * load(const char * relative, uint32_t threads) {
    struct rwkv_context * ctx = rwkv_init_from_file(testdata_path(relative), threads, 0);
    CHECK_MSG(ctx != NULL, "cannot load %s: %s", relative, rwkv_get_last_error_message(NULL));
    return ctx;
}

/* Serial evaluation: first token from a NULL state, then in place. */
static void eval_serial(struct rwkv_context * ctx, const uint32_t * tokens, size_t n, float * state, float * logits) {
    for (size_t i = 0; i < n; i++) {
        CHECK(rwkv_eval(ctx, tokens[i], i == 0 ? NULL : state, state, logits));
    }
}

/* §6.1 and §6.6: sequence and chunked evaluation are bit-identical to serial, for every model. */
static void test_modes_agree(const char * relative) {
    struct rwkv_context * ctx = load(relative, 2);
    if (ctx == NULL) {
        return;
    }
    size_t state_len = rwkv_get_state_len(ctx);
    uint32_t tokens[128];
    const char * prompts[] = { LONG_PROMPT, "T", "hello world" };
    for (size_t p = 0; p < 3; p++) {
        size_t n = to_tokens(prompts[p], tokens);
        float * expected_state = malloc(state_len * sizeof(float));
        float * state = malloc(state_len * sizeof(float));
        float expected_logits[TINY_N_VOCAB], logits[TINY_N_VOCAB];
        eval_serial(ctx, tokens, n, expected_state, expected_logits);

        CHECK(rwkv_eval_sequence(ctx, tokens, n, NULL, state, logits));
        CHECK_MSG(memcmp(state, expected_state, state_len * sizeof(float)) == 0, "%s: sequence state differs", relative);
        CHECK_MSG(memcmp(logits, expected_logits, sizeof logits) == 0, "%s: sequence logits differ", relative);

        const size_t chunks[] = { 1, 2, 4, 8, 10, 64, 100 };
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            memset(state, 0, state_len * sizeof(float));
            CHECK(rwkv_eval_sequence_in_chunks(ctx, tokens, n, chunks[c], NULL, state, logits));
            CHECK_MSG(memcmp(state, expected_state, state_len * sizeof(float)) == 0,
                      "%s: chunk size %zu state differs", relative, chunks[c]);
            CHECK_MSG(memcmp(logits, expected_logits, sizeof logits) == 0, "%s: chunk size %zu logits differ",
                      relative, chunks[c]);
        }
        free(expected_state);
        free(state);
    }
    rwkv_free(ctx);
}

/* Batch evaluation equals one rwkv_eval per session, bit for bit, states and logits. */
static void test_batch_agrees(const char * relative) {
    struct rwkv_context * ctx = load(relative, 2);
    if (ctx == NULL) {
        return;
    }
    enum { SESSIONS = 5, STEPS = 6 };
    const size_t state_len = rwkv_get_state_len(ctx);
    float * serial[SESSIONS], * batched[SESSIONS], * serial_logits[SESSIONS], * batched_logits[SESSIONS];
    float * logits_out[SESSIONS];
    for (int i = 0; i < SESSIONS; i++) {
        serial[i] = malloc(state_len * sizeof(float));
        batched[i] = malloc(state_len * sizeof(float));
        serial_logits[i] = malloc(TINY_N_VOCAB * sizeof(float));
        batched_logits[i] = malloc(TINY_N_VOCAB * sizeof(float));
        rwkv_init_state(ctx, serial[i]);
        /* Session 3 never asks for logits: the others' must not depend on that. */
        logits_out[i] = i == 3 ? NULL : batched_logits[i];
    }
    for (int step = 0; step < STEPS; step++) {
        uint32_t tokens[SESSIONS];
        for (int i = 0; i < SESSIONS; i++) {
            tokens[i] = (uint32_t)(LONG_PROMPT[(step * 7 + i * 13) % (sizeof LONG_PROMPT - 1)]);
            CHECK(rwkv_eval(ctx, tokens[i], serial[i], serial[i], serial_logits[i]));
        }
        CHECK(rwkv_eval_batch(ctx, tokens, SESSIONS, step == 0 ? NULL : (const float * const *)batched, batched,
                              logits_out));
    }
    for (int i = 0; i < SESSIONS; i++) {
        CHECK_MSG(memcmp(serial[i], batched[i], state_len * sizeof(float)) == 0, "%s: session %d state differs",
                  relative, i);
        if (i != 3) {
            CHECK_MSG(memcmp(serial_logits[i], batched_logits[i], TINY_N_VOCAB * sizeof(float)) == 0,
                      "%s: session %d logits differ", relative, i);
        }
        free(serial[i]);
        free(batched[i]);
        free(serial_logits[i]);
        free(batched_logits[i]);
    }
    uint32_t bad[2] = { 1, 999 };
    float * outs[2] = { NULL, NULL };
    CHECK(!rwkv_eval_batch(ctx, bad, 2, NULL, outs, NULL));
    CHECK_EQ_INT(rwkv_get_last_error(ctx), RWKV_ERROR_ARGS);
    rwkv_free(ctx);
}

/* Results must not depend on the number of threads. */
static void test_thread_counts_agree(const char * relative) {
    uint32_t tokens[128];
    size_t n = to_tokens(LONG_PROMPT, tokens);
    float reference_logits[TINY_N_VOCAB];
    float * reference_state = NULL;
    size_t state_len = 0;
    for (uint32_t threads = 1; threads <= 4; threads++) {
        struct rwkv_context * ctx = load(relative, threads);
        if (ctx == NULL) {
            return;
        }
        state_len = rwkv_get_state_len(ctx);
        float * state = malloc(state_len * sizeof(float));
        float logits[TINY_N_VOCAB];
        CHECK(rwkv_eval_sequence(ctx, tokens, n, NULL, state, logits));
        if (reference_state == NULL) {
            reference_state = state;
            memcpy(reference_logits, logits, sizeof logits);
        } else {
            CHECK_MSG(memcmp(state, reference_state, state_len * sizeof(float)) == 0, "%s: %u threads state differs",
                      relative, threads);
            CHECK_MSG(memcmp(logits, reference_logits, sizeof logits) == 0, "%s: %u threads logits differ", relative,
                      threads);
            free(state);
        }
        rwkv_free(ctx);
    }
    free(reference_state);
}

/* §6.2: a clone evaluates identically after the original is freed. */
static void test_cloning(void) {
    struct rwkv_context * ctx = load("tiny/tiny-rwkv-5v2-730K-FP32.bin", 2);
    if (ctx == NULL) {
        return;
    }
    uint32_t tokens[16];
    size_t n = to_tokens("hello world", tokens);
    float * state = malloc(rwkv_get_state_len(ctx) * sizeof(float));
    float expected[TINY_N_VOCAB], logits[TINY_N_VOCAB];
    eval_serial(ctx, tokens, n, state, expected);
    struct rwkv_context * clone = rwkv_clone_context(ctx, 2);
    CHECK(clone != NULL && clone != ctx);
    rwkv_free(ctx);
    if (clone != NULL) {
        eval_serial(clone, tokens, n, state, logits);
        CHECK(memcmp(logits, expected, sizeof logits) == 0);
        struct rwkv_context * clone_of_clone = rwkv_clone_context(clone, 1);
        CHECK(clone_of_clone != NULL);
        rwkv_free(clone);
        if (clone_of_clone != NULL) {
            eval_serial(clone_of_clone, tokens, n, state, logits);
            CHECK(memcmp(logits, expected, sizeof logits) == 0);
            CHECK_EQ_INT(rwkv_get_n_threads(clone_of_clone), 1);
            rwkv_free(clone_of_clone);
        }
    }
    free(state);
}

struct concurrent_run {
    struct rwkv_context * ctx;
    float logits[TINY_N_VOCAB];
};

static void * run_concurrently(void * arg) {
    struct concurrent_run * run = arg;
    uint32_t tokens[128];
    size_t n = to_tokens(LONG_PROMPT, tokens);
    float * state = malloc(rwkv_get_state_len(run->ctx) * sizeof(float));
    for (int repeat = 0; repeat < 5; repeat++) {
        eval_serial(run->ctx, tokens, n, state, run->logits);
    }
    free(state);
    return NULL;
}

/* Clones sharing weights evaluate concurrently and agree with a serial run. */
static void test_concurrent_clones(void) {
    struct rwkv_context * ctx = load("tiny/tiny-rwkv-7v0-834K-Q5_1.bin", 1);
    if (ctx == NULL) {
        return;
    }
    uint32_t tokens[128];
    size_t n = to_tokens(LONG_PROMPT, tokens);
    float * state = malloc(rwkv_get_state_len(ctx) * sizeof(float));
    float expected[TINY_N_VOCAB];
    eval_serial(ctx, tokens, n, state, expected);
    free(state);
    enum { RUNS = 4 };
    struct concurrent_run runs[RUNS];
    pthread_t threads[RUNS];
    for (int i = 0; i < RUNS; i++) {
        runs[i].ctx = rwkv_clone_context(ctx, 1 + i % 2);
        CHECK(runs[i].ctx != NULL);
    }
    rwkv_free(ctx);
    for (int i = 0; i < RUNS; i++) {
        pthread_create(&threads[i], NULL, run_concurrently, &runs[i]);
    }
    for (int i = 0; i < RUNS; i++) {
        pthread_join(threads[i], NULL);
        CHECK_MSG(memcmp(runs[i].logits, expected, sizeof expected) == 0, "concurrent clone %d differs", i);
        rwkv_free(runs[i].ctx);
    }
}

/* §6.3: skipping the logits leaves the state bit-identical, serial and sequence. */
static void test_logit_skipping(void) {
    struct rwkv_context * ctx = load("tiny/tiny-rwkv-5v2-730K-FP32.bin", 2);
    if (ctx == NULL) {
        return;
    }
    size_t state_len = rwkv_get_state_len(ctx);
    uint32_t tokens[16];
    size_t n = to_tokens("hello world", tokens);
    float * with = malloc(state_len * sizeof(float));
    float * without = malloc(state_len * sizeof(float));
    float logits[TINY_N_VOCAB];
    eval_serial(ctx, tokens, n, with, logits);
    for (size_t i = 0; i < n; i++) {
        CHECK(rwkv_eval(ctx, tokens[i], i == 0 ? NULL : without, without, NULL));
    }
    CHECK(memcmp(with, without, state_len * sizeof(float)) == 0);
    CHECK(rwkv_eval_sequence(ctx, tokens, n, NULL, with, logits));
    CHECK(rwkv_eval_sequence(ctx, tokens, n, NULL, without, NULL));
    CHECK(memcmp(with, without, state_len * sizeof(float)) == 0);
    free(with);
    free(without);
    rwkv_free(ctx);
}

/* NULL state_in equals an initialised state; state_out NULL writes nothing but still gives logits. */
static void test_state_arguments(void) {
    struct rwkv_context * ctx = load("tiny/tiny-rwkv-4v0-660K-FP32.bin", 2);
    if (ctx == NULL) {
        return;
    }
    size_t state_len = rwkv_get_state_len(ctx);
    CHECK_EQ_INT(state_len, 2560);
    float * initial = malloc(state_len * sizeof(float));
    float * out = malloc(state_len * sizeof(float));
    float * out2 = malloc(state_len * sizeof(float));
    rwkv_init_state(ctx, initial);
    size_t minus_1e30 = 0;
    for (size_t i = 0; i < state_len; i++) {
        minus_1e30 += initial[i] == -1e30f;
    }
    CHECK_EQ_INT(minus_1e30, 128 * 4);
    float a[TINY_N_VOCAB], b[TINY_N_VOCAB], c[TINY_N_VOCAB];
    CHECK(rwkv_eval(ctx, 65, NULL, out, a));
    CHECK(rwkv_eval(ctx, 65, initial, out2, b));
    CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(out, out2, state_len * sizeof(float)) == 0);
    float * before = malloc(state_len * sizeof(float));
    memcpy(before, initial, state_len * sizeof(float));
    CHECK(rwkv_eval(ctx, 65, initial, NULL, c));
    CHECK(memcmp(a, c, sizeof a) == 0);
    CHECK(memcmp(before, initial, state_len * sizeof(float)) == 0);
    free(before);
    free(initial);
    free(out);
    free(out2);
    rwkv_free(ctx);
}

/* §6.6: argument errors land in the context's slot, are read once, and leave the global slot alone. */
static void test_argument_errors(void) {
    struct rwkv_context * ctx = load("tiny/tiny-rwkv-5v2-730K-FP32.bin", 2);
    if (ctx == NULL) {
        return;
    }
    size_t state_len = rwkv_get_state_len(ctx);
    float * state = malloc(state_len * sizeof(float));
    float * untouched = malloc(state_len * sizeof(float));
    float logits[TINY_N_VOCAB];
    rwkv_get_last_error(NULL);
    CHECK(!rwkv_eval(ctx, 256, NULL, state, logits));
    CHECK_EQ_INT(rwkv_get_last_error(ctx), RWKV_ERROR_ARGS);
    CHECK_EQ_INT(rwkv_get_last_error(ctx), RWKV_ERROR_NONE);
    CHECK(strstr(rwkv_get_last_error_message(ctx), "256") != NULL);
    CHECK_EQ_INT(rwkv_get_last_error(NULL), RWKV_ERROR_NONE);

    uint32_t tokens[3] = { 1, 300, 2 };
    for (size_t i = 0; i < state_len; i++) {
        state[i] = untouched[i] = (float)i;
    }
    CHECK(!rwkv_eval_sequence(ctx, tokens, 3, NULL, state, logits));
    CHECK_EQ_INT(rwkv_get_last_error(ctx), RWKV_ERROR_ARGS);
    CHECK(memcmp(state, untouched, state_len * sizeof(float)) == 0);
    CHECK(!rwkv_eval_sequence_in_chunks(ctx, tokens, 3, 1, NULL, state, logits));
    CHECK_EQ_INT(rwkv_get_last_error(ctx), RWKV_ERROR_ARGS);
    CHECK(memcmp(state, untouched, state_len * sizeof(float)) == 0);

    CHECK(!rwkv_eval_sequence(ctx, tokens, 0, NULL, state, logits));
    CHECK_EQ_INT(rwkv_get_last_error(ctx), RWKV_ERROR_ARGS);
    CHECK(!rwkv_eval_sequence_in_chunks(ctx, tokens, 3, 0, NULL, state, logits));
    CHECK_EQ_INT(rwkv_get_last_error(ctx), RWKV_ERROR_ARGS);

    /* NULL tokens: prepare only. */
    CHECK(rwkv_eval_sequence(ctx, NULL, 5, NULL, state, logits));
    CHECK(rwkv_eval_sequence(ctx, NULL, 1, NULL, state, logits));
    CHECK(rwkv_eval_sequence_in_chunks(ctx, NULL, 100, 16, NULL, state, logits));
    CHECK(memcmp(state, untouched, state_len * sizeof(float)) == 0);
    CHECK_EQ_INT(rwkv_get_last_error(ctx), RWKV_ERROR_NONE);

    /* A failed evaluation does not poison the next one. */
    CHECK(rwkv_eval(ctx, 1, NULL, state, logits));

    CHECK(rwkv_init_from_file(testdata_path("tiny/tiny-rwkv-5v2-730K-FP32.bin"), 0, 0) == NULL);
    CHECK_EQ_INT(rwkv_get_last_error(NULL), RWKV_ERROR_ARGS);
    CHECK(rwkv_clone_context(ctx, 0) == NULL);
    CHECK_EQ_INT(rwkv_get_last_error(NULL), RWKV_ERROR_ARGS);

    free(state);
    free(untouched);
    rwkv_free(ctx);
    rwkv_free(NULL);
    CHECK_EQ_INT(rwkv_get_state_len(NULL), 0);
    CHECK_EQ_INT(rwkv_get_n_vocab(NULL), 0);
}

/* Queries and print flags. */
static void test_queries(void) {
    CHECK(rwkv_get_print_errors(NULL) == false); /* switched off in main */
    rwkv_set_print_errors(NULL, true);
    CHECK(rwkv_get_print_errors(NULL));
    rwkv_set_print_errors(NULL, false);
    struct rwkv_context * ctx = load("tiny/tiny-rwkv-7v0-834K-FP16.bin", 1);
    if (ctx == NULL) {
        return;
    }
    CHECK(!rwkv_get_print_errors(ctx));
    rwkv_set_print_errors(ctx, true);
    CHECK(rwkv_get_print_errors(ctx));
    rwkv_set_print_errors(ctx, false);
    CHECK_EQ_INT(rwkv_get_n_vocab(ctx), 256);
    CHECK_EQ_INT(rwkv_get_n_embed(ctx), 64);
    CHECK_EQ_INT(rwkv_get_n_layer(ctx), 12);
    CHECK_EQ_INT(rwkv_get_state_len(ctx), 50688);
    CHECK_EQ_INT(rwkv_get_state_buffer_element_count(ctx), 50688);
    CHECK_EQ_INT(rwkv_get_logits_buffer_element_count(ctx), 256);
    CHECK_EQ_INT(rwkv_get_architecture(ctx), RWKV_ARCH_V7);
    CHECK_EQ_INT(rwkv_get_file_version(ctx), 101);
    CHECK_EQ_INT(rwkv_get_file_data_type(ctx), RWKV_TYPE_FP16);
    CHECK_EQ_INT(rwkv_get_n_head(ctx), 1);
    CHECK_EQ_INT(rwkv_get_head_size(ctx), 64);
    CHECK_EQ_INT(rwkv_get_tensor_count(ctx), 339);
    struct rwkv_tensor_info info;
    CHECK(rwkv_get_tensor_info(ctx, 0, &info));
    CHECK(strcmp(info.name, "emb.weight") == 0);
    CHECK_EQ_INT(info.type, RWKV_TYPE_FP16);
    CHECK_EQ_INT(info.ne[0], 64);
    CHECK_EQ_INT(info.ne[1], 256);
    CHECK_EQ_INT(info.n_bytes, 64 * 256 * 2);
    CHECK(info.used);
    CHECK(!rwkv_get_tensor_info(ctx, 339, &info));
    rwkv_free(ctx);

    const char * info_string = rwkv_get_system_info_string();
    CHECK(strncmp(info_string, "AVX=", 4) == 0);
    CHECK(strstr(info_string, " NEON=") != NULL && strstr(info_string, " VSX=") != NULL);
    CHECK(strstr(info_string, " KERNELS=") != NULL);
    CHECK(strstr(info_string, " GPU=none") != NULL);
    printf("system info: %s\n", info_string);

    struct rwkv_context * v6 = load("tiny/tiny-rwkv-6v0-3m-Q5_1.bin", 1);
    if (v6 != NULL) {
        CHECK_EQ_INT(rwkv_get_architecture(v6), RWKV_ARCH_V6);
        CHECK_EQ_INT(rwkv_get_state_len(v6), 15360);
        CHECK_EQ_INT(rwkv_get_n_head(v6), 16);
        rwkv_free(v6);
    }
}

int main(void) {
    rwkv_set_print_errors(NULL, false);
    const char * versions[] = { "4v0-660K", "5v1-730K", "5v2-730K", "7v0-834K" };
    for (size_t v = 0; v < 4; v++) {
        char name[128];
        const char * formats[] = { "FP32", "FP16", "Q5_0", "Q5_1" };
        for (size_t f = 0; f < 4; f++) {
            snprintf(name, sizeof name, "tiny/tiny-rwkv-%s-%s.bin", versions[v], formats[f]);
            test_modes_agree(name);
        }
        snprintf(name, sizeof name, "tiny/tiny-rwkv-%s-Q5_1.bin", versions[v]);
        test_thread_counts_agree(name);
        test_batch_agrees(name);
        snprintf(name, sizeof name, "tiny/tiny-rwkv-%s-FP16.bin", versions[v]);
        test_batch_agrees(name);
    }
    test_modes_agree("tiny/tiny-rwkv-6v0-3m-Q5_0.bin");
    test_thread_counts_agree("tiny/tiny-rwkv-6v0-3m-Q5_1.bin");
    test_batch_agrees("tiny/tiny-rwkv-6v0-3m-Q5_0.bin");
    test_cloning();
    test_concurrent_clones();
    test_logit_skipping();
    test_state_arguments();
    test_argument_errors();
    test_queries();
    return test_finish("test_api");
}
