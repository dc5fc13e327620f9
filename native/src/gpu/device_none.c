/* The device layer of builds without a GPU backend: there is never a device. */
#include "gpu/device.h"

const char * rwkv_device_backend(void) {
    return "none";
}

bool rwkv_device_available(void) {
    return false;
}

const char * rwkv_device_name(void) {
    return "none";
}

void * rwkv_device_upload(const void * data, size_t bytes) {
    (void)data;
    (void)bytes;
    return NULL;
}

void rwkv_device_free(void * buffer) {
    (void)buffer;
}

bool rwkv_device_matmul(const void * weights, uint32_t type, uint32_t n_in, uint32_t n_out, size_t row_bytes,
                        const float * x, size_t x_stride, size_t n_cols, float * y, size_t y_stride) {
    (void)weights, (void)type, (void)n_in, (void)n_out, (void)row_bytes, (void)x, (void)x_stride, (void)n_cols;
    (void)y, (void)y_stride;
    return false;
}
