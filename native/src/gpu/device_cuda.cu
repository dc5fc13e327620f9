/*
 * The CUDA device layer: weight buffers and matrix products on one NVIDIA GPU.
 *
 * A product runs one warp per output row. The warp's lanes take the row in chunks of eight
 * weights, lane i chunk i, i + 32, ... (a chunk is a quarter of a quantized block, file-format.md
 * §7), so a warp's loads cover contiguous bytes and every type is read in its compact form, straight
 * from device memory. Each chunk is decoded once and multiplied with up to eight activation columns
 * held side by side, so sequence and batch products read the weights once per eight columns.
 * Activations go over as float32 (columns padded to 32 bytes for vector loads), results come back
 * as float32; sums are in float32. Float rows whose length is not a multiple of eight (or not
 * 16-byte aligned) take a plain element-by-element kernel.
 */
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <mutex>
#include <type_traits>
#include <cstdio>
#include <cstring>

#include "gpu/device.h"

namespace {

constexpr uint32_t TYPE_FP32 = 0, TYPE_FP16 = 1, TYPE_Q4_0 = 2, TYPE_Q4_1 = 3, TYPE_Q5_0 = 7, TYPE_Q5_1 = 8,
                   TYPE_Q8_0 = 9;
constexpr int WARPS_PER_BLOCK = 8;
constexpr int CHUNK = 8;     // weights a lane decodes at once
constexpr int MAX_COLS = 8;  // activation columns per pass over a row

struct device_state {
    std::mutex lock;
    bool probed = false;
    bool available = false;
    char name[256] = "none";
    cudaStream_t stream = nullptr;
    float * x = nullptr;      // activation columns on the device
    float * y = nullptr;      // results on the device, n_out per column
    size_t x_capacity = 0, y_capacity = 0;
    /* Page-locked copies of x and y on the host: the copies are then plain DMA, several times
       quicker to start than copies from pageable memory, which a token's ~200 products pay each. */
    float * x_host = nullptr;
    float * y_host = nullptr;
    size_t x_host_capacity = 0, y_host_capacity = 0;
};

device_state & state() {
    static device_state instance;
    return instance;
}

__device__ __forceinline__ float half_at(const uint8_t * p) {
    unsigned short bits = (unsigned short)(p[0] | (p[1] << 8));
    return __half2float(__ushort_as_half(bits));
}

/* A binary16 at a 2-byte aligned address. */
__device__ __forceinline__ float half_word(const uint8_t * p) {
    return __half2float(__ushort_as_half(*reinterpret_cast<const unsigned short *>(p)));
}

/* Four little-endian bytes at p, which is 4-byte aligned (ALIGNED4) or 2-byte aligned. */
template <bool ALIGNED4>
__device__ __forceinline__ uint32_t word_at(const uint8_t * p) {
    if constexpr (ALIGNED4) {
        return *reinterpret_cast<const uint32_t *>(p);
    }
    const unsigned short * halves = reinterpret_cast<const unsigned short *>(p);
    return (uint32_t)halves[0] | ((uint32_t)halves[1] << 16);
}

/* ---- The plain kernel: any float row ---------------------------------------------------------- */

__device__ float float_weight_at(uint32_t type, const uint8_t * row, uint32_t i) {
    if (type == TYPE_FP16) {
        return half_at(row + 2 * (size_t)i);
    }
    float v;
    memcpy(&v, row + 4 * (size_t)i, 4);
    return v;
}

__global__ void matmul_any_kernel(const uint8_t * weights, uint32_t type, uint32_t n_in, uint32_t n_out,
                                  size_t row_bytes, const float * x, size_t x_stride, uint32_t n_cols, float * y) {
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
            sum += float_weight_at(type, w, i) * xc[i];
        }
        for (int offset = 16; offset > 0; offset /= 2) {
            sum += __shfl_down_sync(0xffffffffu, sum, offset);
        }
        if (lane == 0) {
            y[(size_t)c * n_out + row] = sum;
        }
    }
}

/* ---- Chunks of eight weights ------------------------------------------------------------------- */

/* Chunk k of a quantized row: block k / 4, its elements 8 * (k % 4) ... + 7. Elements 0..15 are the
   low nibbles of qs[0..15], 16..31 the high ones, so chunk part p reads qs[8 * (p & 1) ...] and
   shifts by 4 * (p >> 1). The fifth bit of element j (Q5_x) is bit j of qh. */
template <uint32_t TYPE>
__device__ __forceinline__ void load_chunk(const uint8_t * __restrict__ row, uint32_t k, float w[CHUNK]) {
    if constexpr (TYPE == TYPE_FP32) {
        const float4 * p = reinterpret_cast<const float4 *>(row) + 2 * (size_t)k;
        const float4 a = __ldg(p), b = __ldg(p + 1);
        w[0] = a.x, w[1] = a.y, w[2] = a.z, w[3] = a.w, w[4] = b.x, w[5] = b.y, w[6] = b.z, w[7] = b.w;
    } else if constexpr (TYPE == TYPE_FP16) {
        const uint4 bits = __ldg(reinterpret_cast<const uint4 *>(row) + k);
        const uint32_t words[4] = { bits.x, bits.y, bits.z, bits.w };
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const float2 pair = __half22float2(*reinterpret_cast<const __half2 *>(&words[i]));
            w[2 * i] = pair.x;
            w[2 * i + 1] = pair.y;
        }
    } else {
        constexpr size_t block_bytes = TYPE == TYPE_Q4_0 ? 18 : TYPE == TYPE_Q4_1 ? 20 : TYPE == TYPE_Q5_0 ? 22
                                     : TYPE == TYPE_Q5_1 ? 24 : 34;
        /* Blocks start 2-byte aligned (4-byte for Q4_1/Q5_1): read them in words, not bytes. */
        constexpr bool aligned4 = TYPE == TYPE_Q4_1 || TYPE == TYPE_Q5_1;
        const uint8_t * b = row + (size_t)(k / 4) * block_bytes;
        const uint32_t part = k % 4;
        const int first = 8 * (int)part;  // the chunk's first element in its block
        const float d = half_word(b);
        constexpr int qs_offset = TYPE == TYPE_Q4_0 ? 2 : TYPE == TYPE_Q4_1 ? 4 : TYPE == TYPE_Q5_0 ? 6
                                : TYPE == TYPE_Q5_1 ? 8 : 2;
        /* The chunk's eight quant bytes (Q8_0), or the eight bytes holding its nibbles. */
        const uint8_t * qs = b + qs_offset + (TYPE == TYPE_Q8_0 ? first : 8 * (int)(part & 1));
        const uint32_t words[2] = { word_at<aligned4>(qs), word_at<aligned4>(qs + 4) };
        if constexpr (TYPE == TYPE_Q8_0) {
#pragma unroll
            for (int e = 0; e < CHUNK; e++) {
                w[e] = (float)(int8_t)(words[e / 4] >> (8 * (e % 4))) * d;
            }
        } else {
            const int shift = 4 * (int)(part >> 1);
            uint32_t high_bits = 0;
            if constexpr (TYPE == TYPE_Q5_0 || TYPE == TYPE_Q5_1) {
                high_bits = word_at<aligned4>(b + (TYPE == TYPE_Q5_0 ? 2 : 4)) >> first;
            }
            const float m = (TYPE == TYPE_Q4_1 || TYPE == TYPE_Q5_1) ? half_word(b + 2) : 0.0f;
            constexpr int offset = TYPE == TYPE_Q4_0 ? 8 : TYPE == TYPE_Q5_0 ? 16 : 0;
#pragma unroll
            for (int e = 0; e < CHUNK; e++) {
                int q = (int)(words[e / 4] >> (8 * (e % 4) + shift)) & 0x0f;
                if constexpr (TYPE == TYPE_Q5_0 || TYPE == TYPE_Q5_1) {
                    q |= (int)((high_bits >> e) & 1) << 4;
                }
                w[e] = (float)(q - offset) * d + m;
            }
        }
    }
}

/*
 * y[c * n_out + row] for columns [0, n_cols): one warp per row, up to MAX_COLS columns per pass.
 * Rows of n_in % 8 == 0 weights (quantized rows always are); x's columns are x_stride floats apart,
 * x_stride a multiple of 8 and x 32-byte aligned.
 */
template <uint32_t TYPE, int COLS>
__global__ void __launch_bounds__(WARPS_PER_BLOCK * 32)
    matmul_chunks_kernel(const uint8_t * __restrict__ weights, uint32_t n_in, uint32_t n_out, size_t row_bytes,
                         const float * __restrict__ x, size_t x_stride, uint32_t n_cols, float * __restrict__ y) {
    const uint32_t lane = threadIdx.x % 32;
    const uint32_t row = blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32;
    if (row >= n_out) {
        return;
    }
    const uint8_t * w_row = weights + (size_t)row * row_bytes;
    const uint32_t n_chunks = n_in / CHUNK;
    for (uint32_t c0 = 0; c0 < n_cols; c0 += COLS) {
        const uint32_t count = n_cols - c0 < (uint32_t)COLS ? n_cols - c0 : (uint32_t)COLS;
        float acc[COLS];
#pragma unroll
        for (int c = 0; c < COLS; c++) {
            acc[c] = 0.0f;
        }
#pragma unroll 4
        for (uint32_t k = lane; k < n_chunks; k += 32) {
            float w[CHUNK];
            load_chunk<TYPE>(w_row, k, w);
#pragma unroll
            for (int c = 0; c < COLS; c++) {
                if ((uint32_t)c < count) {
                    const float * column = x + (size_t)(c0 + c) * x_stride;
                    const float4 * xc = reinterpret_cast<const float4 *>(column) + 2 * (size_t)k;
                    const float4 a = __ldg(xc), b = __ldg(xc + 1);
                    acc[c] += w[0] * a.x + w[1] * a.y + w[2] * a.z + w[3] * a.w + w[4] * b.x + w[5] * b.y +
                              w[6] * b.z + w[7] * b.w;
                }
            }
        }
#pragma unroll
        for (int c = 0; c < COLS; c++) {
            float sum = acc[c];
            for (int offset = 16; offset > 0; offset /= 2) {
                sum += __shfl_xor_sync(0xffffffffu, sum, offset);
            }
            if ((uint32_t)c < count && lane == (uint32_t)c) {
                y[(size_t)(c0 + c) * n_out + row] = sum;
            }
        }
    }
}

template <uint32_t TYPE>
void launch_chunks(uint32_t blocks, cudaStream_t stream, const uint8_t * weights, uint32_t n_in, uint32_t n_out,
                   size_t row_bytes, const float * x, size_t x_stride, uint32_t n_cols, float * y) {
    if (n_cols == 1) {
        matmul_chunks_kernel<TYPE, 1><<<blocks, WARPS_PER_BLOCK * 32, 0, stream>>>(weights, n_in, n_out, row_bytes, x,
                                                                                    x_stride, n_cols, y);
    } else {
        matmul_chunks_kernel<TYPE, MAX_COLS><<<blocks, WARPS_PER_BLOCK * 32, 0, stream>>>(weights, n_in, n_out,
                                                                                           row_bytes, x, x_stride,
                                                                                           n_cols, y);
    }
}

/* Launches the product on the stream; false for a type this layer does not know. */
bool launch_matmul(cudaStream_t stream, const uint8_t * weights, uint32_t type, uint32_t n_in, uint32_t n_out,
                   size_t row_bytes, const float * x, size_t x_stride, uint32_t n_cols, float * y) {
    const uint32_t blocks = (n_out + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK;
    auto chunks = [&](auto type_constant) {
        launch_chunks<decltype(type_constant)::value>(blocks, stream, weights, n_in, n_out, row_bytes, x, x_stride,
                                                      n_cols, y);
        return true;
    };
    switch (type) {
    case TYPE_FP32:
    case TYPE_FP16:
        if (n_in % CHUNK != 0 || row_bytes % 16 != 0) {
            matmul_any_kernel<<<blocks, WARPS_PER_BLOCK * 32, 0, stream>>>(weights, type, n_in, n_out, row_bytes, x,
                                                                           x_stride, n_cols, y);
            return true;
        }
        return type == TYPE_FP32 ? chunks(std::integral_constant<uint32_t, TYPE_FP32>{})
                                 : chunks(std::integral_constant<uint32_t, TYPE_FP16>{});
    case TYPE_Q4_0: return chunks(std::integral_constant<uint32_t, TYPE_Q4_0>{});
    case TYPE_Q4_1: return chunks(std::integral_constant<uint32_t, TYPE_Q4_1>{});
    case TYPE_Q5_0: return chunks(std::integral_constant<uint32_t, TYPE_Q5_0>{});
    case TYPE_Q5_1: return chunks(std::integral_constant<uint32_t, TYPE_Q5_1>{});
    case TYPE_Q8_0: return chunks(std::integral_constant<uint32_t, TYPE_Q8_0>{});
    default: return false;
    }
}

/* Grows a buffer to floats, its contents not kept: device memory, or page-locked host memory. */
bool ensure(float ** buffer, size_t * capacity, size_t floats, bool host) {
    if (*capacity >= floats) {
        return true;
    }
    host ? cudaFreeHost(*buffer) : cudaFree(*buffer);
    *buffer = nullptr;
    *capacity = 0;
    void * memory = nullptr;
    const size_t bytes = floats * sizeof(float);
    if ((host ? cudaMallocHost(&memory, bytes) : cudaMalloc(&memory, bytes)) != cudaSuccess) {
        return false;
    }
    *buffer = static_cast<float *>(memory);
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
        if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0 ||
            cudaGetDeviceProperties(&properties, 0) != cudaSuccess) {
            return false;
        }
        /* Spin while waiting for the device: a token waits for some 200 short products, and a
           thread put to sleep at each wait loses more than the product takes. Best effort (the
           flags cannot change once another library made the device's context), so its error is
           cleared. */
        cudaSetDeviceFlags(cudaDeviceScheduleSpin);
        cudaGetLastError();
        if (cudaSetDevice(0) == cudaSuccess &&
            cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking) == cudaSuccess) {
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
    device_state & s = state();
    std::lock_guard<std::mutex> guard(s.lock);
    void * buffer = nullptr;
    if (cudaMalloc(&buffer, bytes) != cudaSuccess) {
        return nullptr;
    }
    /* On the products' stream, and waited for: a copy from pageable memory may return before its
       data has landed, and the products' stream does not wait for the default one. */
    if (cudaMemcpyAsync(buffer, data, bytes, cudaMemcpyHostToDevice, s.stream) != cudaSuccess ||
        cudaStreamSynchronize(s.stream) != cudaSuccess) {
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
    /* Device columns CHUNK floats apart at least, so a chunk of activations is two aligned float4s. */
    const size_t device_stride = (n_in + CHUNK - 1) / CHUNK * CHUNK;
    const size_t x_floats = n_cols * device_stride, y_floats = n_cols * (size_t)n_out;
    if (n_cols == 0 || n_cols > UINT32_MAX || !ensure(&s.x, &s.x_capacity, x_floats, false) ||
        !ensure(&s.y, &s.y_capacity, y_floats, false) || !ensure(&s.x_host, &s.x_host_capacity, x_floats, true) ||
        !ensure(&s.y_host, &s.y_host_capacity, y_floats, true)) {
        return false;
    }
    /* Only the n_in inputs and n_out outputs of each column travel: the caller's columns may
       interleave other data. One stream, one wait: the copies and the product queue up. */
    for (size_t c = 0; c < n_cols; c++) {
        memcpy(s.x_host + c * device_stride, x + c * x_stride, n_in * sizeof(float));
    }
    const bool queued =
        cudaMemcpyAsync(s.x, s.x_host, x_floats * sizeof(float), cudaMemcpyHostToDevice, s.stream) == cudaSuccess &&
        launch_matmul(s.stream, static_cast<const uint8_t *>(weights), type, n_in, n_out, row_bytes, s.x,
                      device_stride, (uint32_t)n_cols, s.y) &&
        cudaGetLastError() == cudaSuccess &&
        cudaMemcpyAsync(s.y_host, s.y, y_floats * sizeof(float), cudaMemcpyDeviceToHost, s.stream) == cudaSuccess;
    if (cudaStreamSynchronize(s.stream) != cudaSuccess || !queued) {
        return false;
    }
    for (size_t c = 0; c < n_cols; c++) {
        memcpy(y + c * y_stride, s.y_host + c * (size_t)n_out, n_out * sizeof(float));
    }
    return true;
}
