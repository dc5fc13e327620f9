/*
 * Block quantization of the model file's types (file-format.md §7-8).
 *
 * Blocks cover 32 consecutive elements of a row and are packed without padding (no alignment):
 *   Q4_0 (18 bytes): d, qs[16]            value = (q - 8) * d
 *   Q4_1 (20 bytes): d, m, qs[16]         value = q * d + m
 *   Q5_0 (22 bytes): d, qh[4], qs[16]     value = (q - 16) * d
 *   Q5_1 (24 bytes): d, m, qh[4], qs[16]  value = q * d + m
 *   Q8_0 (34 bytes): d, qs[32] (int8)     value = q * d
 * d and m are little-endian binary16. qs[j] holds element j in its low nibble and element j + 16 in
 * its high nibble; for Q5_x bit j of the little-endian word qh is the fifth bit of element j.
 */
#ifndef RWKV_QUANT_BLOCKS_H
#define RWKV_QUANT_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Quantizes n floats (n a multiple of 32) into n / 32 blocks of a quantized type, with the exact
 * arithmetic of rwkv.cpp's quantizer, so files come out byte-identical. type must be quantized.
 */
void rwkv_quantize_row(uint32_t type, const float * x, size_t n, uint8_t * out);

/*
 * Converts n elements stored as type (any supported type; n a multiple of 32 for quantized ones)
 * to float32, exactly as the reference dequantizers do. data needs no alignment.
 */
void rwkv_dequantize_row(uint32_t type, const uint8_t * data, size_t n, float * out);

/*
 * The quantizer's step for one row: n elements of source_type (FP32 or FP16) to target, through
 * scratch (n floats): rwkv_dequantize_row, then rwkv_quantize_row. The reference every faster
 * version (the kernels' quantize_row) must equal byte for byte.
 */
void rwkv_quantize_row_portable(uint32_t source_type, const uint8_t * source, size_t n, uint32_t target,
                                float * scratch, uint8_t * out);

#endif
