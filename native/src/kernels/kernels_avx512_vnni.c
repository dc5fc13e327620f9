/*
 * The AVX-512 level's quantized tiles using VNNI (vpdpbusd), for CPUs that have it: one
 * instruction per 64 byte products instead of three. Exact integer sums, so the results are the
 * same bits as without VNNI (kernels_avx512.c chooses at run time).
 */
#define QUAD_DOT_VNNI 1
#include "quads_avx512.h"

const struct quad_tiles * rwkv_avx512_vnni_quad_tiles(uint32_t type);

const struct quad_tiles * rwkv_avx512_vnni_quad_tiles(uint32_t type) {
    return quad_tiles_for(type);
}
