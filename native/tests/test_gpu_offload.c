/*
 * GPU offload (gpu/offload.h). Built twice: against the CPU library, where n_gpu_layers must be
 * ignored (results bit-identical to a CPU run), and against the CUDA variant, where offloaded
 * layers must give the CPU's logits within tolerance (every architecture and type, full and
 * partial offload, serial and sequence). Without a CUDA device the CUDA build reports itself
 * skipped (exit code 77, "no CUDA device").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/device.h"
#include "rwkv.h"
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

int main(void) {
    rwkv_set_print_errors(NULL, false);
    const bool device = rwkv_device_available();
    printf("GPU device: %s\n", rwkv_device_name());
#ifdef RWKV_TEST_CUDA_VARIANT
    CHECK(strstr(rwkv_get_system_info_string(), " GPU=cuda") != NULL);
#else
    CHECK(strstr(rwkv_get_system_info_string(), " GPU=none") != NULL);
#endif
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
