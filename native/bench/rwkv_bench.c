/*
 * rwkv_bench MODEL [THREADS] [TOKENS]: evaluation speed of the C engine without the JVM.
 * Serial: TOKENS single-token evaluations with logits (after 8 warm-up tokens).
 * Sequence: TOKENS tokens in chunks of 64 without logits, then one token with logits.
 * Prints the best of 3 runs of each. The product's own benchmark is `jrwkv bench`.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rwkv.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char ** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [THREADS] [TOKENS]\n", argv[0]);
        return 2;
    }
    uint32_t threads = argc > 2 ? (uint32_t)atoi(argv[2]) : 1;
    size_t tokens = argc > 3 ? (size_t)atoi(argv[3]) : 256;
    double start = now_seconds();
    struct rwkv_context * ctx = rwkv_init_from_file(argv[1], threads, 0);
    if (ctx == NULL) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], rwkv_get_last_error_message(NULL));
        return 1;
    }
    double load = now_seconds() - start;
    size_t vocab = rwkv_get_n_vocab(ctx);
    float * state = malloc(rwkv_get_state_len(ctx) * sizeof(float));
    float * logits = malloc(vocab * sizeof(float));
    uint32_t * sequence = malloc(tokens * sizeof(uint32_t));
    for (size_t i = 0; i < tokens; i++) {
        sequence[i] = (uint32_t)((i * 2654435761u) % vocab);
    }
    double best_serial = 1e30, best_sequence = 1e30;
    for (int run = 0; run < 3; run++) {
        rwkv_init_state(ctx, state);
        for (size_t i = 0; i < 8; i++) {
            rwkv_eval(ctx, sequence[i], state, state, logits);
        }
        start = now_seconds();
        for (size_t i = 0; i < tokens; i++) {
            rwkv_eval(ctx, sequence[i], state, state, logits);
        }
        double serial = now_seconds() - start;
        best_serial = serial < best_serial ? serial : best_serial;

        rwkv_init_state(ctx, state);
        start = now_seconds();
        rwkv_eval_sequence_in_chunks(ctx, sequence, tokens - 1, 64, state, state, NULL);
        rwkv_eval(ctx, sequence[tokens - 1], state, state, logits);
        double sequence_time = now_seconds() - start;
        best_sequence = sequence_time < best_sequence ? sequence_time : best_sequence;
    }
    printf("%s\n", rwkv_get_system_info_string());
    printf("model %s: n_vocab %zu, n_embed %zu, n_layer %zu, threads %u, load %.3f s\n", argv[1], vocab,
           rwkv_get_n_embed(ctx), rwkv_get_n_layer(ctx), threads, load);
    printf("serial:   %8.1f tokens/s (%zu tokens, best of 3)\n", tokens / best_serial, tokens);
    printf("sequence: %8.1f tokens/s (%zu tokens, chunks of 64, best of 3)\n", tokens / best_sequence, tokens);
    free(sequence);
    free(logits);
    free(state);
    rwkv_free(ctx);
    return 0;
}
