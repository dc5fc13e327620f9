/*
 * GPU offload (gpu/offload.h). Built twice: against the CPU library, where n_gpu_layers must be
 * ignored (results bit-identical to a CPU run), and against the CUDA variant, where offloaded
 * layers must give the CPU's logits within tolerance (every architecture and type, full and
 * partial offload, serial and sequence), and every type's device product must match the
 * reference dequantizer on awkward shapes (odd strides, 1 to 64 columns, float rows of any length).
 * Without a CUDA device the CUDA build reports itself skipped (exit code 77, "no CUDA device").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_types.h"
#include "gpu/device.h"
#include "gpu/offload.h"
#include "quant_blocks.h"
#include "rwkv.h"
#include "test_rows.h"
#include "test_util.h"
#include "tiny_models.h"

#define SKIPPED 77

static const char * const FILES[] = {
    "tiny/tiny-rwkv-4v0-660K-FP32.bin", "tiny/tiny-rwkv-4v0-660K-Q5_1.bin", "tiny/tiny-rwkv-5v1-730K-FP16.bin",
    "tiny/tiny-rwkv-5v2-730K-Q5_0.bin", "tiny/tiny-rwkv-6v0-3m-Q5_1.bin",   "tiny/tiny-rwkv-7v0-834K-FP16.bin",
    "tiny/tiny-rwkv-7v0-834K-Q5_1.bin",
};

static void run(const char * path, uint32_t gpu_layers, bool sequence, float * logits) {
    struct rwkv_context * ctx = rwkv_init_from_file(path, 2, gpu_layers);
    CHECK_MSG(ctx != NULL, "%s: %s", path, rwkv_get_last_error_message(NULL));
    if (ctx == NULL) {
        return;
    }
    static const uint32_t prompt[] = { 34, 105, 110, 32, 116, 104, 101 };
    float * state = malloc(rwkv_get_state_len(ctx) * sizeof(float));
    rwkv_init_state(ctx, state);
    if (sequence) {
        CHECK(rwkv_eval_sequence(ctx, prompt, 7, state, state, logits));
    } else {
        for (int i = 0; i < 7; i++) {
            CHECK(rwkv_eval(ctx, prompt[i], state, state, logits));
        }
    }
    free(state);
    rwkv_free(ctx);
}

static float random_unit(uint64_t * seed) {
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*seed >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}

/* Rows of random weights in type, as a file stores them. */
static uint8_t * random_rows(uint32_t type, size_t n_in, size_t n_out, size_t * row_bytes, uint64_t * seed) {
    uint64_t bytes = 0;
    CHECK(rwkv_type_data_bytes(type, n_in, &bytes));
    *row_bytes = (size_t)bytes;
    uint8_t * rows = malloc(n_out * *row_bytes);
    float * row = malloc(n_in * sizeof(float));
    for (size_t r = 0; r < n_out; r++) {
        for (size_t i = 0; i < n_in; i++) {
            row[i] = random_unit(seed);
        }
        uint8_t * out = rows + r * *row_bytes;
        encode_row(type, row, n_in, out);
    }
    free(row);
    return rows;
}

/* One device product against the dequantized rows in double; the gaps between y's columns stay. */
static void check_product(uint32_t type, size_t n_in, size_t n_out, size_t n_cols, uint64_t * seed) {
    size_t row_bytes = 0;
    uint8_t * rows = random_rows(type, n_in, n_out, &row_bytes, seed);
    const size_t x_stride = n_in + 5, y_stride = n_out + 3;
    float * x = malloc(n_cols * x_stride * sizeof(float));
    float * y = malloc(n_cols * y_stride * sizeof(float));
    float * w = malloc(n_in * sizeof(float));
    for (size_t i = 0; i < n_cols * x_stride; i++) {
        x[i] = random_unit(seed);
    }
    for (size_t i = 0; i < n_cols * y_stride; i++) {
        y[i] = -7.0f;
    }
    void * device = rwkv_device_upload(rows, n_out * row_bytes);
    CHECK(device != NULL);
    CHECK(rwkv_device_matmul(device, type, (uint32_t)n_in, (uint32_t)n_out, row_bytes, x, x_stride, n_cols, y,
                             y_stride));
    double worst = 0.0;
    for (size_t r = 0; r < n_out; r++) {
        rwkv_dequantize_row(type, rows + r * row_bytes, n_in, w);
        for (size_t c = 0; c < n_cols; c++) {
            double sum = 0.0, magnitude = 0.0;
            for (size_t i = 0; i < n_in; i++) {
                sum += (double)w[i] * x[c * x_stride + i];
                magnitude += fabs((double)w[i] * x[c * x_stride + i]);
            }
            const double error = fabs(y[c * y_stride + r] - sum) / (magnitude + 1e-30);
            worst = error > worst ? error : worst;
        }
    }
    for (size_t c = 0; c < n_cols; c++) {
        for (size_t g = n_out; g < y_stride; g++) {
            CHECK_MSG(y[c * y_stride + g] == -7.0f, "%s %zux%zu: the gap after column %zu was written",
                      rwkv_type_name(type), n_in, n_out, c);
        }
    }
    CHECK_MSG(worst < 2e-5, "%s: %zu x %zu, %zu columns: relative error %g", rwkv_type_name(type), n_in, n_out,
              n_cols, worst);
    rwkv_device_free(device);
    free(w);
    free(y);
    free(x);
    free(rows);
}

static void check_products(void) {
    static const uint32_t types[] = { RWKV_TYPE_FP32, RWKV_TYPE_FP16, RWKV_TYPE_Q4_0, RWKV_TYPE_Q4_1,
                                      RWKV_TYPE_Q5_0, RWKV_TYPE_Q5_1, RWKV_TYPE_Q8_0 };
    static const size_t quantized_lengths[] = { 32, 544, 2048 };
    static const size_t float_lengths[] = { 1, 13, 36, 1000, 2048 };
    static const size_t outputs[] = { 1, 37, 300 };
    static const size_t columns[] = { 1, 3, 8, 9, 64 };
    uint64_t seed = 12345;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const bool quantized = rwkv_type_is_quantized(types[t]);
        const size_t * lengths = quantized ? quantized_lengths : float_lengths;
        const size_t n_lengths = quantized ? 3 : 5;
        for (size_t l = 0; l < n_lengths; l++) {
            for (size_t o = 0; o < sizeof outputs / sizeof outputs[0]; o++) {
                for (size_t c = 0; c < sizeof columns / sizeof columns[0]; c++) {
                    check_product(types[t], lengths[l], outputs[o], columns[c], &seed);
                }
            }
        }
    }
}

int main(void) {
    rwkv_set_print_errors(NULL, false);
    const bool device = rwkv_device_available();
    printf("GPU device: %s\n", rwkv_device_name());
#ifdef RWKV_TEST_CUDA_VARIANT
    CHECK(strstr(rwkv_get_system_info_string(), " GPU=cuda") != NULL);
#else
    CHECK(strstr(rwkv_get_system_info_string(), " GPU=none") != NULL);
#endif
    if (device) {
        check_products();
    }
    /* The tiny models' matrices are all under the size floor: send them to the device anyway. */
    rwkv_gpu_set_min_matrix_bytes(0);
    for (size_t f = 0; f < sizeof FILES / sizeof FILES[0]; f++) {
        const char * path = testdata_path(FILES[f]);
        float cpu[TINY_N_VOCAB], offloaded[TINY_N_VOCAB];
        run(path, 0, false, cpu);
        const uint32_t n_layer = strstr(FILES[f], "4v0") != NULL ? 4 : 12;
        const uint32_t layer_counts[] = { 1, n_layer / 2, n_layer, n_layer + 1, 1000 };
        for (size_t k = 0; k < sizeof layer_counts / sizeof layer_counts[0]; k++) {
            for (int sequence = 0; sequence < 2; sequence++) {
                run(path, layer_counts[k], sequence != 0, offloaded);
                if (!device) {
                    /* Without a device, every layer runs on the CPU: the same bits. */
                    CHECK_MSG(memcmp(cpu, offloaded, sizeof cpu) == 0, "%s: gpu_layers %u changed a CPU run", FILES[f],
                              layer_counts[k]);
                    continue;
                }
                float worst = 0.0f, scale = 0.0f;
                for (int i = 0; i < TINY_N_VOCAB; i++) {
                    worst = fmaxf(worst, fabsf(offloaded[i] - cpu[i]));
                    scale = fmaxf(scale, fabsf(cpu[i]));
                }
                /* Float32 on the GPU against the CPU's ggml-style rounding of quantized inputs. */
                CHECK_MSG(worst <= 0.02f * fmaxf(scale, 1.0f), "%s: %u GPU layers, %s: max |diff| %g (scale %g)",
                          FILES[f], layer_counts[k], sequence ? "sequence" : "serial", worst, scale);
            }
        }
    }
#ifdef RWKV_TEST_CUDA_VARIANT
    if (!device) {
        printf("test_gpu_offload_cuda: skipped: no CUDA device (the CPU fallback was checked)\n");
        return test_failures == 0 ? SKIPPED : 1;
    }
#endif
    return test_finish("test_gpu_offload");
}
