/*
 * A persistent pool of worker threads for one context. Workers are created once and wait for
 * jobs (spinning briefly, then sleeping), so a token's many small parallel loops cost no thread
 * creation. The calling thread takes part as worker 0.
 */
#ifndef RWKV_THREADPOOL_H
#define RWKV_THREADPOOL_H

#include <stdbool.h>
#include <stdint.h>

struct rwkv_threadpool;

/* A job: called once on each of n_threads threads with thread_index 0 .. n_threads - 1. */
typedef void (*rwkv_task_fn)(void * arg, uint32_t thread_index, uint32_t n_threads);

/* Starts n_threads - 1 workers. NULL if threads cannot be created. */
struct rwkv_threadpool * rwkv_threadpool_create(uint32_t n_threads);

void rwkv_threadpool_free(struct rwkv_threadpool * pool);

uint32_t rwkv_threadpool_size(const struct rwkv_threadpool * pool);

/* Runs task on every thread and returns when all are done. Not reentrant. */
void rwkv_threadpool_run(struct rwkv_threadpool * pool, rwkv_task_fn task, void * arg);

/* Splits [0, count) into n_threads contiguous ranges in multiples of granularity; this thread's range. */
void rwkv_split_range(uint64_t count, uint64_t granularity, uint32_t thread_index, uint32_t n_threads,
                      uint64_t * begin, uint64_t * end);

#endif
