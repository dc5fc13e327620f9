#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/*
 * A waiting thread first spins this many pauses (a few microseconds: the next parallel loop of the
 * same token is usually that close)...
 */
#define SPIN_ITERATIONS 500

/*
 * ...then yields the core this many times before it blocks. With more runnable threads than cores
 * (two processes, a busy JVM, more threads than cores) the thread being waited for is often the one
 * the scheduler parked, and spinning only delays it; where nothing else wants the core, a yield
 * returns at once. ctest -j2 running the four test_api variants (up to 4 threads each) on 2 cores:
 * 310 s with 4000 pauses and no yields, 28 s now (26 s one at a time). With no more threads than
 * cores, no measurable change (engine bench, 2 threads, within the host's noise).
 */
#define YIELD_ITERATIONS 1000

struct worker {
    struct rwkv_threadpool * pool;
    uint32_t index;
    pthread_t thread;
};

struct rwkv_threadpool {
    uint32_t n_threads;
    struct worker * workers;

    /* The current job, published by incrementing generation (release) and read after seeing it (acquire). */
    rwkv_task_fn task;
    void * arg;
    atomic_uint generation;
    atomic_uint pending;
    atomic_bool stopping;

    /* Sleeping workers wait on `wake`, a blocked caller on `done`; each side signals only if
       the other may be asleep (announce, then re-check: one of the two always sees the other). */
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    pthread_cond_t done;
    atomic_uint sleepers;
    atomic_bool caller_sleeping;
};

static void * worker_main(void * arg) {
    struct worker * worker = arg;
    struct rwkv_threadpool * pool = worker->pool;
    /* Workers start before the first job, so generation 0 has never run. */
    unsigned seen = 0;
    for (;;) {
        unsigned current = seen;
        for (int spin = 0; spin < SPIN_ITERATIONS + YIELD_ITERATIONS; spin++) {
            current = atomic_load_explicit(&pool->generation, memory_order_acquire);
            if (current != seen || atomic_load_explicit(&pool->stopping, memory_order_relaxed)) {
                break;
            }
            if (spin < SPIN_ITERATIONS) {
                cpu_relax();
            } else {
                sched_yield();
            }
        }
        if (current == seen && !atomic_load(&pool->stopping)) {
            pthread_mutex_lock(&pool->mutex);
            atomic_fetch_add(&pool->sleepers, 1);
            /* Re-check after announcing ourselves: the caller either sees the sleeper or we see the job. */
            while ((current = atomic_load(&pool->generation)) == seen && !atomic_load(&pool->stopping)) {
                pthread_cond_wait(&pool->wake, &pool->mutex);
            }
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->mutex);
        }
        if (atomic_load(&pool->stopping)) {
            return NULL;
        }
        seen = current;
        pool->task(pool->arg, worker->index, pool->n_threads);
        if (atomic_fetch_sub(&pool->pending, 1) == 1 && atomic_load(&pool->caller_sleeping)) {
            pthread_mutex_lock(&pool->mutex);
            pthread_cond_signal(&pool->done);
            pthread_mutex_unlock(&pool->mutex);
        }
    }
}

struct rwkv_threadpool * rwkv_threadpool_create(uint32_t n_threads) {
    if (n_threads == 0) {
        return NULL;
    }
    struct rwkv_threadpool * pool = calloc(1, sizeof *pool);
    if (pool == NULL) {
        return NULL;
    }
    pool->n_threads = n_threads;
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->stopping, false);
    atomic_init(&pool->sleepers, 0);
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    atomic_init(&pool->caller_sleeping, false);
    if (n_threads > 1) {
        pool->workers = calloc(n_threads - 1, sizeof *pool->workers);
        if (pool->workers == NULL) {
            rwkv_threadpool_free(pool);
            return NULL;
        }
        for (uint32_t i = 1; i < n_threads; i++) {
            struct worker * worker = &pool->workers[i - 1];
            worker->pool = pool;
            worker->index = i;
            if (pthread_create(&worker->thread, NULL, worker_main, worker) != 0) {
                worker->pool = NULL;
                rwkv_threadpool_free(pool);
                return NULL;
            }
        }
    }
    return pool;
}

void rwkv_threadpool_free(struct rwkv_threadpool * pool) {
    if (pool == NULL) {
        return;
    }
    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->stopping, true);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (uint32_t i = 1; pool->workers != NULL && i < pool->n_threads; i++) {
        if (pool->workers[i - 1].pool != NULL) {
            pthread_join(pool->workers[i - 1].thread, NULL);
        }
    }
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done);
    pthread_mutex_destroy(&pool->mutex);
    free(pool->workers);
    free(pool);
}

uint32_t rwkv_threadpool_size(const struct rwkv_threadpool * pool) {
    return pool->n_threads;
}

void rwkv_threadpool_run(struct rwkv_threadpool * pool, rwkv_task_fn task, void * arg) {
    if (pool->n_threads == 1) {
        task(arg, 0, 1);
        return;
    }
    pool->task = task;
    pool->arg = arg;
    atomic_store_explicit(&pool->pending, pool->n_threads - 1, memory_order_relaxed);
    atomic_fetch_add(&pool->generation, 1);
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mutex);
    }
    task(arg, 0, pool->n_threads);
    for (int spin = 0; spin < SPIN_ITERATIONS + YIELD_ITERATIONS; spin++) {
        if (atomic_load_explicit(&pool->pending, memory_order_acquire) == 0) {
            return;
        }
        if (spin < SPIN_ITERATIONS) {
            cpu_relax();
        } else {
            sched_yield();
        }
    }
    pthread_mutex_lock(&pool->mutex);
    /* An exchange, not a store: announcing and re-checking is a store-then-load handshake with the
       workers (their decrement, then their load of caller_sleeping), which needs a full barrier
       between the two. A read-modify-write gives one everywhere; a plain sequentially consistent
       store relies on the ARM store-release/load-acquire pairing, which qemu-user emulates on x86
       hosts without that barrier (the pool then missed wake-ups and hung under qemu-aarch64). */
    atomic_exchange(&pool->caller_sleeping, true);
    while (atomic_load(&pool->pending) != 0) {
        pthread_cond_wait(&pool->done, &pool->mutex);
    }
    atomic_store(&pool->caller_sleeping, false);
    pthread_mutex_unlock(&pool->mutex);
}

void rwkv_split_range(uint64_t count, uint64_t granularity, uint32_t thread_index, uint32_t n_threads,
                      uint64_t * begin, uint64_t * end) {
    uint64_t units = (count + granularity - 1) / granularity;
    uint64_t first = units * thread_index / n_threads;
    uint64_t last = units * (thread_index + 1) / n_threads;
    *begin = first * granularity < count ? first * granularity : count;
    *end = last * granularity < count ? last * granularity : count;
}
