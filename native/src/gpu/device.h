/*
 * The device layer of the GPU backend: buffers and matrix products on one accelerator. Plain C
 * types only, so the CUDA side (device_cuda.cu, C++) needs none of the engine's C11 headers.
 * Builds without a GPU backend link device_none.c, whose functions report that no device exists.
 */
#ifndef RWKV_GPU_DEVICE_H
#define RWKV_GPU_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The backend this library was built with: "cuda", or "none" for the CPU-only library. Static string. */
const char * rwkv_device_backend(void);

/* True if a usable device is present. The first call initialises the runtime. */
bool rwkv_device_available(void);

/* A readable description of the device ("none" without one). Static string. */
const char * rwkv_device_name(void);

/* Copies bytes to a new device buffer; NULL on failure. */
void * rwkv_device_upload(const void * data, size_t bytes);

void rwkv_device_free(void * buffer);

/*
 * y[c * y_stride + r] = dot(row r of the device matrix, x[c * x_stride ...]) for n_cols host columns.
 * weights: from rwkv_device_upload, rows of row_bytes in the file's type (FP32, FP16, Q4_0 ... Q8_0).
 * Thread-safe (serialised per device). False on a device error.
 */
bool rwkv_device_matmul(const void * weights, uint32_t type, uint32_t n_in, uint32_t n_out, size_t row_bytes,
                        const float * x, size_t x_stride, size_t n_cols, float * y, size_t y_stride);

#ifdef __cplusplus
}
#endif

#endif
