/*
 * Memory read bandwidth, measured the way decoding reads weights: threads each stream through
 * their slice of a buffer far larger than the caches. Benchmarks divide by it to report how close
 * decoding comes to the memory limit.
 */
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "rwkv.h"
#include "threadpool.h"

struct read_job {
    const uint64_t * words;
    size_t count;
    uint64_t sums[256];
};

static void read_task(void * arg, uint32_t thread_index, uint32_t n_threads) {
    struct read_job * job = arg;
    uint64_t begin, end;
    rwkv_split_range(job->count, 64, thread_index, n_threads, &begin, &end);
    /* Four independent sums keep several loads in flight; the compiler vectorises the loop. */
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (uint64_t i = begin; i + 4 <= end; i += 4) {
        a += job->words[i];
        b += job->words[i + 1];
        c += job->words[i + 2];
        d += job->words[i + 3];
    }
    job->sums[thread_index % 256] = a + b + c + d;
}

static double seconds(void) {
    return rwkv_monotonic_seconds(); /* timespec_get is missing from mingw's default C runtime */
}

double rwkv_measure_read_bandwidth(uint32_t n_threads, size_t buffer_bytes, uint32_t repeats) {
    if (n_threads == 0 || buffer_bytes < 4096 || repeats == 0) {
        return 0.0;
    }
    struct rwkv_threadpool * pool = rwkv_threadpool_create(n_threads);
    uint64_t * words = rwkv_aligned_alloc(4096, buffer_bytes);
    if (pool == NULL || words == NULL) {
        rwkv_threadpool_free(pool);
        rwkv_aligned_free(words);
        return 0.0;
    }
    /* The same page size the weights' mapping asks for (platform_posix.c), so the bound is not
       flattered by TLB misses the engine avoids. */
    rwkv_advise_huge_pages(words, buffer_bytes);
    struct read_job job = { .words = words, .count = buffer_bytes / sizeof(uint64_t) };
    /* Touch every page first (on the threads that will read it), so no pass pays for page faults. */
    memset(words, 1, job.count * sizeof(uint64_t));
    rwkv_threadpool_run(pool, read_task, &job);
    double best = 0.0;
    for (uint32_t pass = 0; pass < repeats; pass++) {
        double start = seconds();
        rwkv_threadpool_run(pool, read_task, &job);
        double elapsed = seconds() - start;
        double rate = elapsed > 0 ? (double)(job.count * sizeof(uint64_t)) / elapsed / 1e9 : 0.0;
        best = rate > best ? rate : best;
    }
    /* Use the sums so the reads cannot be optimised away. */
    volatile uint64_t sink = 0;
    for (int i = 0; i < 256; i++) {
        sink += job.sums[i];
    }
    (void)sink;
    rwkv_aligned_free(words);
    rwkv_threadpool_free(pool);
    return best;
}
