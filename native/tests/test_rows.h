/* Weight rows for the product tests, stored as a model file stores them. */
#ifndef RWKV_TEST_ROWS_H
#define RWKV_TEST_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fp16.h"
#include "quant_blocks.h"
#include "rwkv.h"

/* n floats as a row of type: FP32 as they are, FP16 rounded, quantized types through the reference
   quantizer (n a multiple of 32). Header-only: the test harness library links no engine. */
static inline void encode_row(uint32_t type, const float * row, size_t n, uint8_t * out) {
    if (type == RWKV_TYPE_FP32) {
        memcpy(out, row, n * sizeof(float));
    } else if (type == RWKV_TYPE_FP16) {
        for (size_t i = 0; i < n; i++) {
            uint16_t h = rwkv_fp32_to_fp16(row[i]);
            memcpy(out + 2 * i, &h, 2);
        }
    } else {
        rwkv_quantize_row(type, row, n, out);
    }
}

#endif
