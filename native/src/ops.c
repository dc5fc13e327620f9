#include "ops.h"

#include <string.h>

#include "data_types.h"
#include "gpu/device.h"
#include "kernels/kernels.h"
#include "rwkv.h"

/* Rows are handed to threads in multiples of this, so each thread's slice starts on a tidy boundary. */
#define ROW_GRANULARITY 16

struct matmul_job {
    const struct rwkv_kernels * kernels;
    const struct rwkv_matrix * w;
    const void * act;
    size_t act_stride;
    size_t n_tokens;
    float * y;
    size_t y_stride;
    float * const * targets;
    size_t n_targets;
};

/* Rows [begin, end) of y's columns to the job's targets (column k to the k-th non-NULL one). */
static void copy_to_targets(const struct matmul_job * job, size_t begin, size_t end) {
    size_t column = 0;
    for (size_t t = 0; t < job->n_targets; t++) {
        if (job->targets[t] != NULL) {
            memcpy(job->targets[t] + begin, job->y + column * job->y_stride + begin, (end - begin) * sizeof(float));
            column++;
        }
    }
}

static void matmul_task(void * arg, uint32_t thread_index, uint32_t n_threads) {
    const struct matmul_job * job = arg;
    uint64_t begin, end;
    rwkv_split_range(job->w->n_out, ROW_GRANULARITY, thread_index, n_threads, &begin, &end);
    if (begin < end) {
        job->kernels->matmul(job->w, job->act, job->act_stride, job->n_tokens, job->y, job->y_stride,
                             (size_t)begin, (size_t)end);
        copy_to_targets(job, (size_t)begin, (size_t)end);
    }
}

struct prepare_job {
    const struct rwkv_kernels * kernels;
    uint32_t act_type;
    const float * x;
    size_t x_stride;
    size_t n_in;
    uint8_t * act;
    size_t act_stride;
};

/*
 * The distance between a product's converted activation columns: as close as the format allows,
 * not the buffer's widest stride. A sequence tile reads the same offsets of eight columns at once,
 * and at a stride that is a multiple of 4 KiB (the widest is the FFN's width in floats, 12-32 KiB
 * in the models measured) they all fall in one set of the L1 cache, where they evict each other
 * and the weights streaming past.
 * Packed (and moved off 4 KiB multiples), one thread, eight sessions of v7 0.4B Q5_1: the products
 * of rows of 1024 ran at 80 -> 88 GMAC/s.
 */
static size_t packed_act_stride(uint32_t act_type, size_t n_in, size_t capacity) {
    size_t stride = rwkv_act_bytes(act_type, n_in);
    if (stride % 4096 == 0 && stride + 64 <= capacity) {
        stride += 64;
    }
    return stride;
}

/* Activation columns [begin, end) of a product. */
static void prepare_columns(void * arg, size_t begin, size_t end) {
    const struct prepare_job * job = arg;
    job->kernels->prepare_act(job->act_type, job->x + begin * job->x_stride, job->x_stride, job->n_in, end - begin,
                              job->act + begin * job->act_stride, job->act_stride);
}

void rwkv_matmul_scatter(struct rwkv_compute * compute, const struct rwkv_matrix * w, const float * x,
                         size_t x_stride, size_t n_tokens, float * y, size_t y_stride, float * const * targets,
                         size_t n_targets) {
    struct matmul_job job = {
        compute->kernels, w, NULL, 0, n_tokens, y, y_stride, targets, n_targets,
    };
    if (w->device != NULL && rwkv_device_matmul(w->device, w->type, w->n_in, w->n_out, w->row_bytes, x, x_stride,
                                                n_tokens, y, y_stride)) {
        copy_to_targets(&job, 0, w->n_out);
        return;
    }
    /* No device copy, or the device failed: the CPU computes it. */
    struct rwkv_scratch * scratch = &compute->scratch;
    /* FP16 kernels take float activations; rounding them first is the ggml scheme (model.h). */
    uint32_t act_type = w->type == RWKV_TYPE_FP16 && !compute->model->round_fp16_inputs ? RWKV_TYPE_FP32 : w->type;
    job.act = scratch->act;
    job.act_stride = scratch->act_stride;
    if (act_type == RWKV_TYPE_FP32) {
        /* Float activations are the inputs as they are: read them in place (a copy was 2% of an
           FP16 prefill). The kernels read activations unaligned; x never overlaps y. */
        job.act = x;
        job.act_stride = x_stride * sizeof(float);
    } else {
        job.act_stride = packed_act_stride(act_type, w->n_in, scratch->act_stride);
        /* Columns convert independently; in sequence mode that is worth sharing among the threads. */
        struct prepare_job prepare = {
            compute->kernels, act_type, x, x_stride, w->n_in, scratch->act, job.act_stride,
        };
        rwkv_for_tokens(compute, n_tokens, prepare_columns, &prepare);
    }
    rwkv_threadpool_run(compute->pool, matmul_task, &job);
}

void rwkv_matmul(struct rwkv_compute * compute, const struct rwkv_matrix * w, const float * x, size_t x_stride,
                 size_t n_tokens, float * y, size_t y_stride) {
    rwkv_matmul_scatter(compute, w, x, x_stride, n_tokens, y, y_stride, NULL, 0);
}

/*
 * Sums in double over NORM_LANES independent accumulators, which the compiler keeps in vector
 * registers: one chain of dependent additions (four cycles each) made the norms 2% of a batched
 * step of v7 0.4B. Doubles hold a sum of floats nearly exactly either way.
 */
#define NORM_LANES 8

static double sum_in_lanes(const double lanes[NORM_LANES]) {
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

static double sum_of(const float * x, size_t n) {
    double lanes[NORM_LANES] = { 0 };
    size_t i = 0;
    for (; i + NORM_LANES <= n; i += NORM_LANES) {
        for (int l = 0; l < NORM_LANES; l++) {
            lanes[l] += x[i + l];
        }
    }
    for (; i < n; i++) {
        lanes[i % NORM_LANES] += x[i];
    }
    return sum_in_lanes(lanes);
}

static double squared_deviations(const float * x, float mean, size_t n) {
    double lanes[NORM_LANES] = { 0 };
    size_t i = 0;
    for (; i + NORM_LANES <= n; i += NORM_LANES) {
        for (int l = 0; l < NORM_LANES; l++) {
            const float centered = x[i + l] - mean;
            lanes[l] += (double)(centered * centered);
        }
    }
    for (; i < n; i++) {
        const float centered = x[i] - mean;
        lanes[i % NORM_LANES] += (double)(centered * centered);
    }
    return sum_in_lanes(lanes);
}

void rwkv_layer_norm(const float * x, const float * weight, const float * bias, float * y, size_t n, float eps) {
    const float mean = (float)(sum_of(x, n) / (double)n);
    const float variance = (float)(squared_deviations(x, mean, n) / (double)n);
    const float scale = 1.0f / sqrtf(variance + eps);
    for (size_t i = 0; i < n; i++) {
        y[i] = (x[i] - mean) * scale * weight[i] + bias[i];
    }
}

void rwkv_group_norm(const float * x, const float * weight, const float * bias, float * y, size_t n_groups,
                     size_t group_size, float eps) {
    for (size_t g = 0; g < n_groups; g++) {
        const size_t offset = g * group_size;
        rwkv_layer_norm(x + offset, weight + offset, bias + offset, y + offset, group_size, eps);
    }
}

/* fn over [0, count) in ranges that are multiples of granularity, one per thread. */
struct ranges_job {
    rwkv_tokens_fn fn;
    void * arg;
    size_t count;
    size_t granularity;
};

static void ranges_task(void * arg, uint32_t thread_index, uint32_t n_threads) {
    const struct ranges_job * job = arg;
    uint64_t begin, end;
    rwkv_split_range(job->count, job->granularity, thread_index, n_threads, &begin, &end);
    if (begin < end) {
        job->fn(job->arg, (size_t)begin, (size_t)end);
    }
}

/* On the pool in sequence mode (n_tokens > 1); inline for a single token. */
static void for_ranges(struct rwkv_compute * compute, size_t n_tokens, size_t count, size_t granularity,
                       rwkv_tokens_fn fn, void * arg) {
    if (n_tokens > 1 && rwkv_threadpool_size(compute->pool) > 1) {
        struct ranges_job job = { fn, arg, count, granularity };
        rwkv_threadpool_run(compute->pool, ranges_task, &job);
    } else if (n_tokens > 0) {
        fn(arg, 0, count);
    }
}

void rwkv_for_tokens(struct rwkv_compute * compute, size_t n_tokens, rwkv_tokens_fn fn, void * arg) {
    for_ranges(compute, n_tokens, n_tokens, 1, fn, arg);
}

void rwkv_for_channels(struct rwkv_compute * compute, size_t n_tokens, size_t n_channels, rwkv_tokens_fn fn,
                       void * arg) {
    for_ranges(compute, n_tokens, n_channels, ROW_GRANULARITY, fn, arg);
}

struct activation_job {
    enum rwkv_activation f;
    float * x;
    size_t n;
};

RWKV_VECTOR_CLONES
static void activate_tokens(void * arg, size_t begin, size_t end) {
    const struct activation_job * job = arg;
    float * x = job->x + begin * job->n;
    const size_t count = (end - begin) * job->n;
    switch (job->f) {
    case RWKV_ACTIVATION_RELU_SQUARED:
        for (size_t i = 0; i < count; i++) {
            x[i] = rwkv_relu_squared(x[i]);
        }
        break;
    case RWKV_ACTIVATION_SILU:
        for (size_t i = 0; i < count; i++) {
            x[i] = rwkv_silu(x[i]);
        }
        break;
    case RWKV_ACTIVATION_TANH:
        for (size_t i = 0; i < count; i++) {
            x[i] = tanhf(x[i]);
        }
        break;
    case RWKV_ACTIVATION_SIGMOID:
        for (size_t i = 0; i < count; i++) {
            x[i] = rwkv_sigmoid(x[i]);
        }
        break;
    }
}

void rwkv_activate_rows(struct rwkv_compute * compute, enum rwkv_activation f, float * x, size_t n_tokens, size_t n) {
    struct activation_job job = { f, x, n };
    rwkv_for_tokens(compute, n_tokens, activate_tokens, &job);
}

struct add_job {
    float * x;
    const float * y;
    size_t n;
};

static void add_tokens(void * arg, size_t begin, size_t end) {
    const struct add_job * job = arg;
    for (size_t i = begin * job->n; i < end * job->n; i++) {
        job->x[i] += job->y[i];
    }
}

void rwkv_add_rows(struct rwkv_compute * compute, float * x, const float * y, size_t n_tokens, size_t n) {
    struct add_job job = { x, y, n };
    rwkv_for_tokens(compute, n_tokens, add_tokens, &job);
}

struct layer_norm_job {
    const float * x, * weight, * bias;
    float * y;
    size_t n;
    float eps;
};

static void layer_norm_tokens(void * arg, size_t begin, size_t end) {
    const struct layer_norm_job * job = arg;
    for (size_t t = begin; t < end; t++) {
        rwkv_layer_norm(job->x + t * job->n, job->weight, job->bias, job->y + t * job->n, job->n, job->eps);
    }
}

void rwkv_layer_norm_rows(struct rwkv_compute * compute, const float * x, const float * weight, const float * bias,
                          float * y, size_t n_tokens, size_t n, float eps) {
    struct layer_norm_job job = { x, weight, bias, y, n, eps };
    rwkv_for_tokens(compute, n_tokens, layer_norm_tokens, &job);
}
