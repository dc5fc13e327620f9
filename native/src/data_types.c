#include "data_types.h"

#include <string.h>

struct type_traits {
    const char * name;
    size_t block_elems;
    size_t block_bytes;
};

/* Indexed by type code; codes 4..6 and 10..16 are removed or not ours and stay zero. */
static const struct type_traits TRAITS[RWKV_TYPE_CODE_COUNT] = {
    [RWKV_TYPE_FP32] = { "FP32", 1, 4 },
    [RWKV_TYPE_FP16] = { "FP16", 1, 2 },
    [RWKV_TYPE_Q4_0] = { "Q4_0", RWKV_QK, 18 },
    [RWKV_TYPE_Q4_1] = { "Q4_1", RWKV_QK, 20 },
    [RWKV_TYPE_Q5_0] = { "Q5_0", RWKV_QK, 22 },
    [RWKV_TYPE_Q5_1] = { "Q5_1", RWKV_QK, 24 },
    [RWKV_TYPE_Q8_0] = { "Q8_0", RWKV_QK, 34 },
};

bool rwkv_type_is_supported(uint32_t type) {
    return type < RWKV_TYPE_CODE_COUNT && TRAITS[type].name != NULL;
}

bool rwkv_type_is_quantized(uint32_t type) {
    return rwkv_type_is_supported(type) && TRAITS[type].block_elems > 1;
}

size_t rwkv_type_block_elems(uint32_t type) {
    return rwkv_type_is_supported(type) ? TRAITS[type].block_elems : 0;
}

size_t rwkv_type_block_bytes(uint32_t type) {
    return rwkv_type_is_supported(type) ? TRAITS[type].block_bytes : 0;
}

const char * rwkv_type_name(uint32_t type) {
    return rwkv_type_is_supported(type) ? TRAITS[type].name : "unknown";
}

bool rwkv_type_from_quantized_name(const char * name, uint32_t * type) {
    if (name == NULL) {
        return false;
    }
    for (uint32_t code = 0; code < RWKV_TYPE_CODE_COUNT; code++) {
        if (rwkv_type_is_quantized(code) && strcmp(TRAITS[code].name, name) == 0) {
            *type = code;
            return true;
        }
    }
    return false;
}

bool rwkv_type_data_bytes(uint32_t type, uint64_t n, uint64_t * bytes) {
    if (!rwkv_type_is_supported(type)) {
        return false;
    }
    uint64_t elems = TRAITS[type].block_elems;
    uint64_t size = TRAITS[type].block_bytes;
    if (n % elems != 0) {
        return false;
    }
    uint64_t blocks = n / elems;
    if (blocks > UINT64_MAX / size) {
        return false;
    }
    *bytes = blocks * size;
    return true;
}
