/*
 * rwkv_bench MODEL [THREADS] [TOKENS] [PROMPT_TOKENS] [BATCH] [GPU_LAYERS]: the C engine's speed
 * without the JVM (the product's benchmark is `jrwkv bench`; this one isolates the engine).
 * GPU_LAYERS offloads layers as rwkv_init_from_file does; rwkv_bench_cuda is the build that can.
 *
 * Decode: TOKENS single-token evaluations with logits, after 16 warm-up tokens. Prefill:
 * PROMPT_TOKENS tokens in chunks of 64 without logits, then one with logits. Batch: BATCH sessions
 * advanced together for TOKENS / BATCH steps. Each is the median of 3 runs (min and max shown).
 * The memory read bandwidth is measured in the same run; the bound is bandwidth / bytes read per
 * token (every tensor but the embedding, of which one row is read).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rwkv.h"

#define RUNS 3

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long peak_rss_kib(void) {
    FILE * status = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (status != NULL && fgets(line, sizeof line, status) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
        }
    }
    if (status != NULL) {
        fclose(status);
    }
    return kib;
}

static int compare_doubles(const void * a, const void * b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Rates (tokens/s) of the runs, sorted: [0] min, [RUNS / 2] median, [RUNS - 1] max. */
static void sort_rates(double rates[RUNS]) {
    qsort(rates, RUNS, sizeof rates[0], compare_doubles);
}

static size_t bytes_per_token(struct rwkv_context * ctx) {
    size_t total = 0, emb = 0;
    struct rwkv_tensor_info info;
    for (size_t i = 0; rwkv_get_tensor_info(ctx, i, &info); i++) {
        if (strcmp(info.name, "emb.weight") == 0) {
            emb = (size_t)info.n_bytes / info.ne[1];
        } else if (info.used) {
            total += (size_t)info.n_bytes;
        }
    }
    return total + emb;
}

/* argv[index] as a whole number in [min, max], or fallback when absent; -1 when malformed. */
static long count_arg(int argc, char ** argv, int index, long fallback, long min, long max) {
    if (argc <= index) {
        return fallback;
    }
    char * end = NULL;
    const long value = strtol(argv[index], &end, 10);
    if (end == argv[index] || *end != '\0' || value < min || value > max) {
        fprintf(stderr, "argument %d (%s) must be a whole number from %ld to %ld\n", index, argv[index], min, max);
        return -1;
    }
    return value;
}

int main(int argc, char ** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [THREADS] [TOKENS] [PROMPT_TOKENS] [BATCH] [GPU_LAYERS]\n", argv[0]);
        return 2;
    }
    const long threads_arg = count_arg(argc, argv, 2, 1, 1, 1024);
    const long tokens_arg = count_arg(argc, argv, 3, 128, 1, 1 << 20);
    const long prompt_arg = count_arg(argc, argv, 4, 512, 1, 1 << 20);
    const long batch_arg = count_arg(argc, argv, 5, 8, 1, 256);
    const long gpu_layers_arg = count_arg(argc, argv, 6, 0, 0, 1 << 20);
    if (threads_arg < 0 || tokens_arg < 0 || prompt_arg < 0 || batch_arg < 0 || gpu_layers_arg < 0) {
        return 2;
    }
    const uint32_t threads = (uint32_t)threads_arg, gpu_layers = (uint32_t)gpu_layers_arg;
    const size_t tokens = (size_t)tokens_arg, prompt = (size_t)prompt_arg, batch = (size_t)batch_arg;
    /* Token ids for the 16 warm-up tokens, the decode run, the prompt and the batch steps. */
    size_t sequence_len = batch + 8;
    sequence_len = sequence_len > tokens ? sequence_len : tokens;
    sequence_len = sequence_len > prompt ? sequence_len : prompt;
    sequence_len = sequence_len > 16 ? sequence_len : 16;
    double start = now_seconds();
    struct rwkv_context * ctx = rwkv_init_from_file(argv[1], threads, gpu_layers);
    if (ctx == NULL) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], rwkv_get_last_error_message(NULL));
        return 1;
    }
    const double load = now_seconds() - start;
    const long rss_after_load = peak_rss_kib();
    const size_t vocab = rwkv_get_n_vocab(ctx), state_len = rwkv_get_state_len(ctx);
    float * states = malloc(batch * state_len * sizeof(float));
    float * logits = malloc(batch * vocab * sizeof(float));
    uint32_t * sequence = malloc(sequence_len * sizeof(uint32_t));
    if (states == NULL || logits == NULL || sequence == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < sequence_len; i++) {
        sequence[i] = (uint32_t)((i * 2654435761u) % vocab);
    }
    float * state_ptrs[256], * logit_ptrs[256];
    for (size_t b = 0; b < batch; b++) {
        state_ptrs[b] = states + b * state_len;
        logit_ptrs[b] = logits + b * vocab;
    }
    double decode[RUNS], prefill[RUNS], batched[RUNS];
    for (int run = 0; run < RUNS; run++) {
        rwkv_init_state(ctx, states);
        for (size_t i = 0; i < 16; i++) {
            rwkv_eval(ctx, sequence[i], states, states, logits);
        }
        start = now_seconds();
        for (size_t i = 0; i < tokens; i++) {
            rwkv_eval(ctx, sequence[i], states, states, logits);
        }
        decode[run] = tokens / (now_seconds() - start);

        rwkv_init_state(ctx, states);
        start = now_seconds();
        if (prompt > 1) {
            rwkv_eval_sequence_in_chunks(ctx, sequence, prompt - 1, 64, states, states, NULL);
        }
        rwkv_eval(ctx, sequence[prompt - 1], states, states, logits);
        prefill[run] = prompt / (now_seconds() - start);

        const size_t steps = tokens / batch > 0 ? tokens / batch : 1;
        rwkv_eval_batch(ctx, sequence, batch, NULL, state_ptrs, logit_ptrs);
        start = now_seconds();
        for (size_t step = 0; step < steps; step++) {
            rwkv_eval_batch(ctx, sequence + step % 8, batch, (const float * const *)state_ptrs, state_ptrs, logit_ptrs);
        }
        batched[run] = steps * batch / (now_seconds() - start);
    }
    sort_rates(decode);
    sort_rates(prefill);
    sort_rates(batched);
    /* Before the bandwidth probe, whose buffer would count in the peak. */
    const long rss_after_run = peak_rss_kib();
    const double bandwidth = rwkv_measure_read_bandwidth(threads, (size_t)1 << 30, 3);
    const double bytes = (double)bytes_per_token(ctx);
    const double bound = bandwidth * 1e9 / bytes;
    printf("%s\n", rwkv_get_system_info_string());
    printf("model %s: n_embed %zu, n_layer %zu, n_vocab %zu, %.1f MB read per token; threads %u; load %.3f s\n",
           argv[1], rwkv_get_n_embed(ctx), rwkv_get_n_layer(ctx), vocab, bytes / 1e6, threads, load);
    printf("decode   %8.2f tok/s (min %.2f, max %.2f; %zu tokens)\n", decode[RUNS / 2], decode[0], decode[RUNS - 1], tokens);
    printf("prefill  %8.2f tok/s (min %.2f, max %.2f; %zu tokens, chunks of 64)\n", prefill[RUNS / 2], prefill[0],
           prefill[RUNS - 1], prompt);
    printf("batch %-3zu %7.2f tok/s (min %.2f, max %.2f)\n", batch, batched[RUNS / 2], batched[0], batched[RUNS - 1]);
    printf("bandwidth %.1f GB/s, bound %.2f tok/s, decode / bound = %.2f\n", bandwidth, bound, decode[RUNS / 2] / bound);
    printf("peak RSS: %.1f MiB after load, %.1f MiB after the run\n", rss_after_load / 1024.0, rss_after_run / 1024.0);
    free(sequence);
    free(logits);
    free(states);
    rwkv_free(ctx);
    return 0;
}
