/*
 * The AVX2 level's quantized tiles using AVX-VNNI (vpdpbusd on 256-bit registers), for CPUs that
 * have it: one instruction per 32 byte products where maddubs and madd take two. Exact integer
 * sums, so the results are the same bits as without VNNI (kernels_avx2.c chooses at run time).
 */
#define PAIR_DOT_VNNI 1
#include "pairs_avx2.h"

const struct quant_tiles * rwkv_avx2_vnni_quant_tiles(uint32_t type);

const struct quant_tiles * rwkv_avx2_vnni_quant_tiles(uint32_t type) {
    return quant_tiles_for(type);
}
