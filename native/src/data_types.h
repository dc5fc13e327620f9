/* The tensor data types of the model file: block geometry and names. */
#ifndef RWKV_DATA_TYPES_H
#define RWKV_DATA_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rwkv.h"

/* Highest type code the file format defines (codes >= this are out of range). */
#define RWKV_TYPE_CODE_COUNT 17

/* Elements per quantization block. */
#define RWKV_QK 32

/* True for the seven types this engine reads: FP32, FP16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0. */
bool rwkv_type_is_supported(uint32_t type);

/* True for the block-quantized types among them. */
bool rwkv_type_is_quantized(uint32_t type);

/* Elements per block (1 for FP32/FP16, 32 for quantized) and bytes per block; 0 if unsupported. */
size_t rwkv_type_block_elems(uint32_t type);
size_t rwkv_type_block_bytes(uint32_t type);

/* "FP32", "Q5_1", ...; "unknown" for anything else. */
const char * rwkv_type_name(uint32_t type);

/* Parses one of the quantizer's format names ("Q4_0" ... "Q8_0", exact). Returns false otherwise. */
bool rwkv_type_from_quantized_name(const char * name, uint32_t * type);

/*
 * Bytes needed for n elements of type, or false if n is not a whole number of blocks or the size
 * overflows. Used for every size computed from untrusted file data.
 */
bool rwkv_type_data_bytes(uint32_t type, uint64_t n, uint64_t * bytes);

#endif
