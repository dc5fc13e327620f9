/*
 * Random-weight model files of real shapes, for benchmarks and tests without downloads. The
 * tensors come from the same tables the loader checks (model_arch.c), so every generated file is
 * valid by construction. Values are in the ranges trained models have (so logits stay finite),
 * drawn from a generator seeded per tensor name: the same seed gives the same weights in every
 * data type.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_types.h"
#include "error.h"
#include "file_format.h"
#include "fp16.h"
#include "model.h"
#include "model_arch.h"
#include "platform.h"
#include "quant_blocks.h"
#include "rwkv.h"

/* ---- Random numbers: splitmix64 ---- */

struct rng {
    uint64_t state;
};

static uint64_t next_u64(struct rng * rng) {
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [low, high). */
static float uniform(struct rng * rng, float low, float high) {
    float unit = (float)(next_u64(rng) >> 40) * (1.0f / 16777216.0f);
    return low + (high - low) * unit;
}

static struct rng rng_for(uint64_t seed, const char * name) {
    uint64_t hash = 1469598103934665603ull;
    for (const char * p = name; *p != '\0'; p++) {
        hash = (hash ^ (unsigned char)*p) * 1099511628211ull;
    }
    return (struct rng){ seed ^ hash };
}

/* ---- Shapes ---- */

/* The widths real models use for an embedding size (architectures.md §2). */
static void choose_dims(enum rwkv_architecture arch, uint32_t C, uint32_t V, uint32_t dims[DIM_COUNT]) {
    memset(dims, 0, DIM_COUNT * sizeof dims[0]);
    dims[DIM_1] = 1;
    dims[DIM_5] = 5;
    dims[DIM_6] = 6;
    dims[DIM_C] = C;
    dims[DIM_V] = V;
    dims[DIM_S] = C < 64 ? C : 64;
    dims[DIM_H] = C / dims[DIM_S];
    dims[DIM_F] = (arch == RWKV_ARCH_V4 || arch == RWKV_ARCH_V7) ? 4 * C : C * 7 / 2 / 32 * 32;
    dims[DIM_DM] = C <= 2048 ? 32 : 64;
    dims[DIM_5DM] = 5 * dims[DIM_DM];
    dims[DIM_DD] = C <= 2048 ? 64 : 128;
    bool small = C <= 1024, medium = C <= 2560;
    dims[DIM_DW] = small ? 64 : medium ? 96 : 128;
    dims[DIM_DA] = dims[DIM_DW];
    dims[DIM_DV] = small ? 32 : medium ? 64 : 96;
    dims[DIM_DG] = small ? 128 : medium ? 256 : 480;
}

/* ---- Values: ranges trained models have, by tensor ---- */

static bool ends_with(const char * name, const char * suffix) {
    size_t n = strlen(name), m = strlen(suffix);
    return n >= m && strcmp(name + n - m, suffix) == 0;
}

static float vector_value(enum rwkv_architecture arch, const char * name, struct rng * rng) {
    if (strstr(name, "ln") != NULL && ends_with(name, ".weight")) {
        return uniform(rng, 0.9f, 1.1f);
    }
    if (ends_with(name, ".bias")) {
        return uniform(rng, -0.1f, 0.1f);
    }
    if (ends_with(name, "time_decay")) {
        switch (arch) {
        case RWKV_ARCH_V4: return -expf(uniform(rng, -2.0f, 1.0f));          /* stored -exp(w) */
        case RWKV_ARCH_V6: return uniform(rng, -3.0f, 0.0f);                 /* stored as trained */
        default: return expf(-expf(uniform(rng, -3.0f, 0.0f)));            /* stored exp(-exp(w)) */
        }
    }
    if (ends_with(name, "time_first")) {
        return arch == RWKV_ARCH_V4 ? uniform(rng, -1.0f, 1.0f) : expf(uniform(rng, -1.0f, 0.5f));
    }
    if (ends_with(name, "time_faaaa") || ends_with(name, "att.r_k")) {
        return uniform(rng, -0.5f, 0.5f);
    }
    if (ends_with(name, "att.w0") || ends_with(name, "att.a0") || ends_with(name, "att.v0")) {
        return uniform(rng, -1.0f, 1.0f);
    }
    if (ends_with(name, "att.k_k")) {
        return uniform(rng, 0.5f, 1.0f);
    }
    /* Mixing coefficients (time_mix_*, time_maa_*, x_rwkvag, x_k, k_a). */
    return uniform(rng, 0.0f, 1.0f);
}

/* LoRA matrices stay small so that the data-dependent parts are corrections, as when trained. */
static float matrix_scale(const char * name, uint32_t n_in) {
    static const char * const lora[] = { "time_maa_w", "time_decay_w", "att.w1", "att.w2", "att.a1", "att.a2",
                                         "att.v1", "att.v2", "att.g1", "att.g2" };
    for (size_t i = 0; i < sizeof lora / sizeof lora[0]; i++) {
        if (strstr(name, lora[i]) != NULL) {
            return 0.1f / sqrtf((float)n_in);
        }
    }
    return strcmp(name, "emb.weight") == 0 ? 1.0f : 1.0f / sqrtf((float)n_in);
}

/* ---- Types: what the converter (FP16) and then the quantizer would store ---- */

static uint32_t record_type(const struct rwkv_tensor_spec * spec, const char * name, uint32_t target, uint32_t ne0) {
    if (target == RWKV_TYPE_FP32) {
        return RWKV_TYPE_FP32;
    }
    /* Converter: 2-D matrices become FP16 unless named .time_ (those stay FP32). */
    bool matrix = spec->kind == MATRIX;
    uint32_t stored = matrix && strstr(name, ".time_") == NULL ? RWKV_TYPE_FP16 : RWKV_TYPE_FP32;
    if (!rwkv_type_is_quantized(target) || !matrix || ne0 % RWKV_QK != 0 || strcmp(name, "emb.weight") == 0 ||
        strcmp(name, "head.weight") == 0) {
        return stored;
    }
    /* Quantizer: every 2-D matrix but emb/head and v7's LoRAs and r_k. */
    static const char * const keep[] = { "att.v1", "att.v2", "att.g1", "att.g2", "att.a1", "att.a2", "att.w1",
                                         "att.w2", "att.r_k" };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        if (strstr(name, keep[i]) != NULL) {
            return stored;
        }
    }
    return target;
}

/* ---- Writing ---- */

struct writer {
    FILE * file;
    bool ok;
    float * row;
    uint8_t * encoded;
};

static void put(struct writer * w, const void * data, size_t size) {
    if (w->ok && size > 0 && fwrite(data, 1, size, w->file) != size) {
        w->ok = false;
    }
}

static void put_u32(struct writer * w, uint32_t value) {
    uint8_t bytes[4];
    rwkv_write_u32le(bytes, value);
    put(w, bytes, 4);
}

static void encode_row(uint32_t type, const float * row, size_t n, uint8_t * out) {
    if (type == RWKV_TYPE_FP32) {
        for (size_t i = 0; i < n; i++) {
            rwkv_write_u32le(out + 4 * i, rwkv_float_bits(row[i]));
        }
    } else if (type == RWKV_TYPE_FP16) {
        for (size_t i = 0; i < n; i++) {
            uint16_t h = rwkv_fp32_to_fp16(row[i]);
            out[2 * i] = (uint8_t)h;
            out[2 * i + 1] = (uint8_t)(h >> 8);
        }
    } else {
        rwkv_quantize_row(type, row, n, out);
    }
}

static void write_tensor(struct writer * w, enum rwkv_architecture arch, const struct rwkv_tensor_spec * spec,
                         const char * name, const uint32_t dims[DIM_COUNT], uint32_t target, uint64_t seed) {
    uint32_t ne[3] = { dims[spec->dims[0]], dims[spec->dims[1]], dims[spec->dims[2]] };
    uint32_t n_dims = ne[2] != 1 ? 3 : ne[1] != 1 || spec->kind == MATRIX ? 2 : 1;
    uint32_t type = record_type(spec, name, target, ne[0]);
    put_u32(w, n_dims);
    put_u32(w, (uint32_t)strlen(name));
    put_u32(w, type);
    for (uint32_t i = 0; i < n_dims; i++) {
        put_u32(w, ne[i]);
    }
    put(w, name, strlen(name));

    struct rng rng = rng_for(seed, name);
    bool matrix = spec->kind == MATRIX || spec->kind == MATRIX_SLICES5;
    float scale = matrix_scale(name, ne[0]);
    size_t row_bytes = (size_t)ne[0] / rwkv_type_block_elems(type) * rwkv_type_block_bytes(type);
    for (size_t r = 0; r < (size_t)ne[1] * ne[2] && w->ok; r++) {
        for (uint32_t i = 0; i < ne[0]; i++) {
            w->row[i] = matrix ? uniform(&rng, -scale, scale) : vector_value(arch, name, &rng);
        }
        encode_row(type, w->row, ne[0], w->encoded);
        put(w, w->encoded, row_bytes);
    }
}

static bool check_shape(enum rwkv_architecture arch, uint32_t n_embed, uint32_t n_layer, uint32_t n_vocab,
                        struct rwkv_error_slot * error, bool print) {
    if (rwkv_layer_tensors(arch).count == 0) {
        return rwkv_error_set(error, print, RWKV_ERROR_ARGS | RWKV_ERROR_UNSUPPORTED, "unknown architecture %d",
                              (int)arch);
    }
    if (n_embed == 0 || n_embed % RWKV_QK != 0 || n_embed > 65536 || n_layer == 0 || n_layer > 1024 ||
        n_vocab == 0 || n_vocab > (1u << 24)) {
        return rwkv_error_set(error, print, RWKV_ERROR_ARGS | RWKV_ERROR_DIMENSION,
                              "n_embed must be a positive multiple of 32 (at most 65536), n_layer 1..1024 and n_vocab 1..2^24"
                              " (got %u, %u, %u)", n_embed, n_layer, n_vocab);
    }
    return true;
}

bool rwkv_write_random_model(const char * path, enum rwkv_architecture arch, uint32_t n_embed, uint32_t n_layer,
                             uint32_t n_vocab, const char * data_type, uint64_t seed) {
    struct rwkv_error_slot * error = rwkv_global_error();
    const bool print = rwkv_global_print_errors();
    rwkv_error_clear(error);
    uint32_t target;
    if (data_type != NULL && strcmp(data_type, "FP32") == 0) {
        target = RWKV_TYPE_FP32;
    } else if (data_type != NULL && strcmp(data_type, "FP16") == 0) {
        target = RWKV_TYPE_FP16;
    } else if (!rwkv_type_from_quantized_name(data_type, &target)) {
        return rwkv_error_set(error, print, RWKV_ERROR_ARGS | RWKV_ERROR_DATA_TYPE,
                              "unknown data type \"%s\" (expected FP32, FP16, Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0)",
                              data_type == NULL ? "(null)" : data_type);
    }
    if (path == NULL || !check_shape(arch, n_embed, n_layer, n_vocab, error, print)) {
        return path == NULL ? rwkv_error_set(error, print, RWKV_ERROR_ARGS, "path is NULL") : false;
    }
    uint32_t dims[DIM_COUNT];
    choose_dims(arch, n_embed, n_vocab, dims);
    size_t widest = dims[DIM_V] > dims[DIM_F] ? dims[DIM_V] : dims[DIM_F];
    widest = widest > n_embed ? widest : n_embed;

    char temp_path[4096];
    struct writer w = { rwkv_create_temp_beside(path, temp_path, sizeof temp_path), true,
                        malloc(widest * sizeof(float)), malloc(widest * sizeof(float)) };
    if (w.file == NULL || w.row == NULL || w.encoded == NULL) {
        if (w.file != NULL) {
            fclose(w.file);
            rwkv_remove_file(temp_path);
        }
        free(w.row);
        free(w.encoded);
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN, "cannot create %s", path);
    }
    const uint32_t header[6] = { RWKV_FILE_MAGIC, RWKV_FILE_VERSION, n_vocab, n_embed, n_layer, target };
    for (int i = 0; i < 6; i++) {
        put_u32(&w, header[i]);
    }
    struct rwkv_tensor_table globals = rwkv_global_tensors();
    struct rwkv_tensor_table layers = rwkv_layer_tensors(arch);
    char name[96];
    /* File order as converters write it: emb and ln0 (the table's first three), the blocks, then
       ln_out and head (its last three). */
    for (size_t i = 0; i < 3; i++) {
        write_tensor(&w, arch, &globals.specs[i], globals.specs[i].name, dims, target, seed);
    }
    for (uint32_t layer = 0; layer < n_layer && w.ok; layer++) {
        for (size_t i = 0; i < layers.count; i++) {
            if ((layers.specs[i].flags & NOT_IN_LAYER_0) && layer == 0) {
                continue;
            }
            snprintf(name, sizeof name, "blocks.%u.%s", layer, layers.specs[i].name);
            write_tensor(&w, arch, &layers.specs[i], name, dims, target, seed);
        }
    }
    for (size_t i = 3; i < globals.count; i++) {
        write_tensor(&w, arch, &globals.specs[i], globals.specs[i].name, dims, target, seed);
    }
    free(w.row);
    free(w.encoded);
    w.ok = w.ok && rwkv_sync_file(w.file);
    if (w.ok) {
        rwkv_drop_cached_pages(w.file);
    }
    w.ok = (fclose(w.file) == 0) && w.ok;
    if (!w.ok || !rwkv_rename_replace(temp_path, path)) {
        rwkv_remove_file(temp_path);
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_WRITE, "cannot write %s", path);
    }
    return true;
}
