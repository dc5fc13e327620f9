/*
 * The CUDA device layer: weight buffers and matrix products on one NVIDIA GPU.
 *
 * A product runs one warp per output row: the warp's lanes walk the row's 32-element blocks,
 * each lane decoding its own element from the file's block layout (file-format.md §7), so every
 * type is read in its compact form, straight from device memory. Activations go over as float32
 * and results come back as float32; sums are in float32.
 */
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <mutex>
#include <cstdio>
#include <cstring>

#include "gpu/device.h"

namespace {

constexpr uint32_t TYPE_FP32 = 0, TYPE_FP16 = 1, TYPE_Q4_0 = 2, TYPE_Q4_1 = 3, TYPE_Q5_0 = 7, TYPE_Q5_1 = 8,
                   TYPE_Q8_0 = 9;
constexpr int WARPS_PER_BLOCK = 8;

struct device_state {
    std::mutex lock;
    bool probed = false;
    bool available = false;
    char name[256] = "none";
    float * x = nullptr;      // activation columns on the device
    float * y = nullptr;      // results on the device
    size_t x_capacity = 0, y_capacity = 0;
};

device_state & state() {
    static device_state instance;
    return instance;
}

__device__ float half_to_float(const uint8_t * p) {
    unsigned short bits = (unsigned short)(p[0] | (p[1] << 8));
    return __half2float(*reinterpret_cast<const __half *>(&bits));
}

__device__ uint32_t read_u32(const uint8_t * p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Element j (0..31) of a quantized block: 4-bit nibbles (j < 16 low, else high of qs[j - 16]),
   plus the fifth bit from qh for Q5_x. */
__device__ int nibble(const uint8_t * qs, int j) {
    return j < 16 ? (qs[j] & 0x0f) : (qs[j - 16] >> 4);
}

__device__ float weight_at(uint32_t type, const uint8_t * row, uint32_t i) {
    switch (type) {
    case TYPE_FP32: {
        float v;
        memcpy(&v, row + 4 * (size_t)i, 4);
        return v;
    }
    case TYPE_FP16:
        return half_to_float(row + 2 * (size_t)i);
    default:
        break;
    }
    const int j = (int)(i % 32);
    const size_t block = i / 32;
    switch (type) {
    case TYPE_Q4_0: {
        const uint8_t * b = row + block * 18;
        return (float)(nibble(b + 2, j) - 8) * half_to_float(b);
    }
    case TYPE_Q4_1: {
        const uint8_t * b = row + block * 20;
        return (float)nibble(b + 4, j) * half_to_float(b) + half_to_float(b + 2);
    }
    case TYPE_Q5_0: {
        const uint8_t * b = row + block * 22;
        int q = nibble(b + 6, j) | (int)(((read_u32(b + 2) >> j) & 1) << 4);
        return (float)(q - 16) * half_to_float(b);
    }
    case TYPE_Q5_1: {
        const uint8_t * b = row + block * 24;
        int q = nibble(b + 8, j) | (int)(((read_u32(b + 4) >> j) & 1) << 4);
        return (float)q * half_to_float(b) + half_to_float(b + 2);
    }
    case TYPE_Q8_0:
    default: {
        const uint8_t * b = row + block * 34;
        return (float)(int8_t)b[2 + j] * half_to_float(b);
    }
    }
}

__global__ void matmul_kernel(const uint8_t * weights, uint32_t type, uint32_t n_in, uint32_t n_out,
                              size_t row_bytes, const float * x, size_t x_stride, uint32_t n_cols, float * y,
                              size_t y_stride) {
    const uint32_t lane = threadIdx.x % 32;
    const uint32_t row = blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32;
    if (row >= n_out) {
        return;
    }
    const uint8_t * w = weights + (size_t)row * row_bytes;
    for (uint32_t c = 0; c < n_cols; c++) {
        const float * xc = x + (size_t)c * x_stride;
        float sum = 0.0f;
        for (uint32_t i = lane; i < n_in; i += 32) {
            sum += weight_at(type, w, i) * xc[i];
        }
        for (int offset = 16; offset > 0; offset /= 2) {
            sum += __shfl_down_sync(0xffffffffu, sum, offset);
        }
        if (lane == 0) {
            y[(size_t)c * y_stride + row] = sum;
        }
    }
}

bool ensure(float ** buffer, size_t * capacity, size_t floats) {
    if (*capacity >= floats) {
        return true;
    }
    cudaFree(*buffer);
    *buffer = nullptr;
    *capacity = 0;
    if (cudaMalloc(reinterpret_cast<void **>(buffer), floats * sizeof(float)) != cudaSuccess) {
        return false;
    }
    *capacity = floats;
    return true;
}

}  // namespace

extern "C" const char * rwkv_device_backend(void) {
    return "cuda";
}

extern "C" bool rwkv_device_available(void) {
    device_state & s = state();
    std::lock_guard<std::mutex> guard(s.lock);
    if (!s.probed) {
        s.probed = true;
        int count = 0;
        cudaDeviceProp properties;
        if (cudaGetDeviceCount(&count) == cudaSuccess && count > 0 &&
            cudaGetDeviceProperties(&properties, 0) == cudaSuccess && cudaSetDevice(0) == cudaSuccess) {
            s.available = true;
            snprintf(s.name, sizeof s.name, "CUDA device 0 (%s)", properties.name);
        }
    }
    return s.available;
}

extern "C" const char * rwkv_device_name(void) {
    return rwkv_device_available() ? state().name : "none";
}

extern "C" void * rwkv_device_upload(const void * data, size_t bytes) {
    if (!rwkv_device_available()) {
        return nullptr;
    }
    void * buffer = nullptr;
    if (cudaMalloc(&buffer, bytes) != cudaSuccess) {
        return nullptr;
    }
    if (cudaMemcpy(buffer, data, bytes, cudaMemcpyHostToDevice) != cudaSuccess) {
        cudaFree(buffer);
        return nullptr;
    }
    return buffer;
}

extern "C" void rwkv_device_free(void * buffer) {
    if (buffer != nullptr) {
        cudaFree(buffer);
    }
}

extern "C" bool rwkv_device_matmul(const void * weights, uint32_t type, uint32_t n_in, uint32_t n_out,
                                   size_t row_bytes, const float * x, size_t x_stride, size_t n_cols, float * y,
                                   size_t y_stride) {
    device_state & s = state();
    std::lock_guard<std::mutex> guard(s.lock);
    const size_t x_floats = (n_cols - 1) * x_stride + n_in;
    const size_t y_floats = (n_cols - 1) * y_stride + n_out;
    if (!ensure(&s.x, &s.x_capacity, x_floats) || !ensure(&s.y, &s.y_capacity, y_floats)) {
        return false;
    }
    if (cudaMemcpy(s.x, x, x_floats * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess) {
        return false;
    }
    const uint32_t blocks = (n_out + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK;
    matmul_kernel<<<blocks, WARPS_PER_BLOCK * 32>>>(static_cast<const uint8_t *>(weights), type, n_in, n_out,
                                                     row_bytes, s.x, x_stride, (uint32_t)n_cols, s.y, y_stride);
    if (cudaGetLastError() != cudaSuccess) {
        return false;
    }
    /* Only the rows this product wrote: the caller's y may interleave other data between columns. */
    for (size_t c = 0; c < n_cols; c++) {
        if (cudaMemcpy(y + c * y_stride, s.y + c * y_stride, n_out * sizeof(float), cudaMemcpyDeviceToHost) !=
            cudaSuccess) {
            return false;
        }
    }
    return true;
}
