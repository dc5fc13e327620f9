/*
 * Model loading: architecture detection from tensor names, the tensor table of every architecture,
 * and validation of every tensor's type and shape before anything trusts it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_types.h"
#include "fp16.h"
#include "model.h"
#include "model_arch.h"
#include "gpu/offload.h"
#include "quant_blocks.h"

/* ---- Loading state ---- */

struct loader {
    struct rwkv_model * model;
    struct rwkv_error_slot * error;
    bool print;
    uint32_t dims[DIM_COUNT];
    /* Open-addressing hash table of record indexes by name (index + 1; 0 = empty). */
    size_t * slots;
    size_t slot_mask;
    size_t arena_used, arena_size;
};

static uint64_t hash_name(const char * name, size_t length) {
    uint64_t hash = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < length; i++) {
        hash = (hash ^ (unsigned char)name[i]) * 1099511628211ull;
    }
    return hash;
}

static bool same_name(const struct rwkv_tensor_record * record, const char * name, size_t length) {
    return record->name_length == length && memcmp(record->name, name, length) == 0;
}

/* Builds the name index; a name seen twice is an error (the reference silently keeps the last). */
static bool index_names(struct loader * loader) {
    const struct rwkv_file_view * view = &loader->model->view;
    size_t size = 16;
    while (size < view->n_records * 2) {
        size *= 2;
    }
    loader->slots = calloc(size, sizeof *loader->slots);
    if (loader->slots == NULL) {
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_ALLOC,
                              "out of memory indexing tensor names");
    }
    loader->slot_mask = size - 1;
    for (size_t i = 0; i < view->n_records; i++) {
        const struct rwkv_tensor_record * record = &view->records[i];
        size_t slot = (size_t)hash_name(record->name, record->name_length) & loader->slot_mask;
        while (loader->slots[slot] != 0) {
            if (same_name(&view->records[loader->slots[slot] - 1], record->name, record->name_length)) {
                char name[128];
                return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_KEY,
                                      "tensor %s appears twice in the file",
                                      rwkv_record_name_for_print(record, name, sizeof name));
            }
            slot = (slot + 1) & loader->slot_mask;
        }
        loader->slots[slot] = i + 1;
    }
    return true;
}

static const struct rwkv_tensor_record * find(const struct loader * loader, const char * name, size_t * index) {
    const struct rwkv_file_view * view = &loader->model->view;
    size_t length = strlen(name);
    size_t slot = (size_t)hash_name(name, length) & loader->slot_mask;
    while (loader->slots[slot] != 0) {
        size_t i = loader->slots[slot] - 1;
        if (same_name(&view->records[i], name, length)) {
            if (index != NULL) {
                *index = i;
            }
            return &view->records[i];
        }
        slot = (slot + 1) & loader->slot_mask;
    }
    return NULL;
}

static const struct rwkv_tensor_record * require(struct loader * loader, const char * name) {
    const struct rwkv_tensor_record * record = find(loader, name, NULL);
    if (record == NULL) {
        rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_PARAM_MISSING,
                       "model parameter %s not found", name);
    }
    return record;
}

/* ---- Architecture and dimensions ---- */

static enum rwkv_architecture detect_architecture(const struct loader * loader) {
    enum rwkv_architecture arch = RWKV_ARCH_V4;
    if (find(loader, "blocks.0.att.ln_x.weight", NULL) != NULL) {
        arch = find(loader, "blocks.0.att.gate.weight", NULL) != NULL ? RWKV_ARCH_V5_2 : RWKV_ARCH_V5_1;
    }
    if (find(loader, "blocks.0.att.time_maa_x", NULL) != NULL) {
        arch = RWKV_ARCH_V6;
    }
    if (find(loader, "blocks.0.att.r_k", NULL) != NULL) {
        arch = RWKV_ARCH_V7;
    }
    return arch;
}

/* Reads one size from a tensor that defines it (ne[axis] / divisor), which must be positive. */
static bool define_dim(struct loader * loader, enum rwkv_dim dim, const char * name, int axis, uint32_t divisor) {
    const struct rwkv_tensor_record * record = require(loader, name);
    if (record == NULL) {
        return false;
    }
    uint32_t value = record->ne[axis];
    if (value == 0 || value % divisor != 0) {
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DIMENSION,
                              "tensor %s has an invalid size %u in dimension %d", name, value, axis);
    }
    loader->dims[dim] = value / divisor;
    return true;
}

static bool resolve_dims(struct loader * loader) {
    struct rwkv_model * model = loader->model;
    uint32_t * dims = loader->dims;
    dims[DIM_1] = 1;
    dims[DIM_5] = 5;
    dims[DIM_6] = 6;
    dims[DIM_C] = model->n_embed;
    dims[DIM_V] = model->n_vocab;
    if (!define_dim(loader, DIM_F, "blocks.0.ffn.key.weight", 1, 1)) {
        return false;
    }
    switch (model->arch) {
    case RWKV_ARCH_V4:
        break;
    case RWKV_ARCH_V5_1:
    case RWKV_ARCH_V5_2:
    case RWKV_ARCH_V6:
        if (!define_dim(loader, DIM_H, "blocks.0.att.time_decay", 2, 1)) {
            return false;
        }
        break;
    case RWKV_ARCH_V7:
        if (!define_dim(loader, DIM_H, "blocks.0.att.r_k", 1, 1)) {
            return false;
        }
        break;
    default:
        break;
    }
    if (model->arch != RWKV_ARCH_V4) {
        if (dims[DIM_C] % dims[DIM_H] != 0) {
            return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DIMENSION,
                                  "n_embed %u is not a multiple of the head count %u", dims[DIM_C], dims[DIM_H]);
        }
        dims[DIM_S] = dims[DIM_C] / dims[DIM_H];
    }
    if (model->arch == RWKV_ARCH_V6) {
        if (!define_dim(loader, DIM_DM, "blocks.0.att.time_maa_w1", 1, 5) ||
            !define_dim(loader, DIM_DD, "blocks.0.att.time_decay_w1", 1, 1)) {
            return false;
        }
        dims[DIM_5DM] = 5 * dims[DIM_DM];
    }
    if (model->arch == RWKV_ARCH_V7) {
        if (!define_dim(loader, DIM_DW, "blocks.0.att.w1", 1, 1) ||
            !define_dim(loader, DIM_DA, "blocks.0.att.a1", 1, 1) ||
            !define_dim(loader, DIM_DG, "blocks.0.att.g1", 1, 1)) {
            return false;
        }
        if (model->n_layer > 1 && !define_dim(loader, DIM_DV, "blocks.1.att.v1", 1, 1)) {
            return false;
        }
    }
    model->n_head = model->arch == RWKV_ARCH_V4 ? 0 : dims[DIM_H];
    model->head_size = model->arch == RWKV_ARCH_V4 ? 0 : dims[DIM_S];
    model->ffn_size = dims[DIM_F];
    model->lora_mix = dims[DIM_DM];
    model->lora_decay = dims[DIM_DD];
    model->lora_w = dims[DIM_DW];
    model->lora_a = dims[DIM_DA];
    model->lora_v = dims[DIM_DV];
    model->lora_g = dims[DIM_DG];
    size_t widest = dims[DIM_F];
    const uint32_t others[] = { dims[DIM_5DM], dims[DIM_DD], dims[DIM_DW], dims[DIM_DA], dims[DIM_DV], dims[DIM_DG] };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        widest = others[i] > widest ? others[i] : widest;
    }
    model->max_hidden = widest;
    return true;
}

/* ---- Tensors ---- */

/* Floats a tensor takes in the arena: vectors only (matrices stay in the mapping). */
static size_t arena_floats_for(const struct loader * loader, const struct rwkv_tensor_spec * spec);

static size_t spec_floats(const struct loader * loader, const struct rwkv_tensor_spec * spec) {
    if (spec->kind == VECTOR_PER_HEAD) {
        return loader->dims[DIM_C];
    }
    return (size_t)loader->dims[spec->dims[0]] * loader->dims[spec->dims[1]] * loader->dims[spec->dims[2]];
}

static size_t arena_floats_for(const struct loader * loader, const struct rwkv_tensor_spec * spec) {
    if (spec->kind != VECTOR && spec->kind != VECTOR_PER_HEAD) {
        return 0;
    }
    return (spec_floats(loader, spec) + 15) & ~(size_t)15; /* each vector starts 64-byte aligned */
}

/* Vectors compare their sizes without the size-1 axes ([C], [C,1] and [C,1,1] are the same vector). */
static bool vector_shape_matches(const struct rwkv_tensor_record * record, const uint32_t expected[3]) {
    uint32_t a[3], b[3];
    int na = 0, nb = 0;
    for (int i = 0; i < 3; i++) {
        if (record->ne[i] != 1) {
            a[na++] = record->ne[i];
        }
        if (expected[i] != 1) {
            b[nb++] = expected[i];
        }
    }
    return na == nb && memcmp(a, b, (size_t)na * sizeof a[0]) == 0;
}

static bool check_shape(struct loader * loader, const struct rwkv_tensor_spec * spec, const struct rwkv_tensor_record * record,
                        const char * name) {
    uint32_t expected[3];
    for (int i = 0; i < 3; i++) {
        expected[i] = loader->dims[spec->dims[i]];
    }
    bool ok;
    if (spec->kind == VECTOR || spec->kind == VECTOR_PER_HEAD) {
        ok = vector_shape_matches(record, expected);
    } else {
        ok = memcmp(record->ne, expected, sizeof expected) == 0;
    }
    if (ok) {
        return true;
    }
    int expected_dims = expected[2] != 1 ? 3 : (expected[1] != 1 ? 2 : 1);
    bool wrong_rank = spec->kind != VECTOR && spec->kind != VECTOR_PER_HEAD && (int)record->n_dims < expected_dims;
    return rwkv_error_set(loader->error, loader->print,
                          RWKV_ERROR_MODEL_PARAMS | (wrong_rank ? RWKV_ERROR_SHAPE : RWKV_ERROR_DIMENSION),
                          "tensor %s has shape [%u, %u, %u], expected [%u, %u, %u]", name,
                          record->ne[0], record->ne[1], record->ne[2], expected[0], expected[1], expected[2]);
}

static const float * load_vector(struct loader * loader, const struct rwkv_tensor_spec * spec,
                                 const struct rwkv_tensor_record * record, const char * name) {
    if (record->type != RWKV_TYPE_FP32 && record->type != RWKV_TYPE_FP16) {
        rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DATA_TYPE,
                       "tensor %s must be FP32 or FP16, not %s", name, rwkv_type_name(record->type));
        return NULL;
    }
    size_t count = spec_floats(loader, spec);
    float * out = loader->model->arena + loader->arena_used;
    loader->arena_used += (count + 15) & ~(size_t)15; /* keep every vector 64-byte aligned */
    const uint8_t * data = loader->model->view.data + record->data_offset;
    if (spec->kind == VECTOR_PER_HEAD) {
        uint32_t heads = loader->dims[DIM_H], size = loader->dims[DIM_S];
        float per_head[1];
        for (uint32_t h = 0; h < heads; h++) {
            rwkv_dequantize_row(record->type, data + (size_t)h * (record->type == RWKV_TYPE_FP32 ? 4 : 2), 1, per_head);
            for (uint32_t s = 0; s < size; s++) {
                out[(size_t)h * size + s] = per_head[0];
            }
        }
    } else {
        rwkv_dequantize_row(record->type, data, count, out);
    }
    return out;
}

static struct rwkv_matrix matrix_view(const struct rwkv_tensor_record * record, const uint8_t * base, uint32_t n_in,
                                      uint32_t n_out, size_t first_row) {
    struct rwkv_matrix matrix;
    matrix.type = record->type;
    matrix.n_in = n_in;
    matrix.n_out = n_out;
    matrix.row_bytes = (size_t)n_in / rwkv_type_block_elems(record->type) * rwkv_type_block_bytes(record->type);
    matrix.data = base + record->data_offset + first_row * matrix.row_bytes;
    matrix.device = NULL;
    return matrix;
}

/* Finds, checks and stores one tensor into the struct at target. */
static bool load_tensor(struct loader * loader, const struct rwkv_tensor_spec * spec, const char * name, void * target) {
    size_t index;
    const struct rwkv_tensor_record * record = find(loader, name, &index);
    if (record == NULL) {
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_PARAM_MISSING,
                              "model parameter %s not found", name);
    }
    if (!check_shape(loader, spec, record, name)) {
        return false;
    }
    loader->model->tensor_used[index] = true;
    uint8_t * field = (uint8_t *)target + spec->field;
    const uint8_t * base = loader->model->view.data;
    switch (spec->kind) {
    case VECTOR:
    case VECTOR_PER_HEAD: {
        const float * vector = load_vector(loader, spec, record, name);
        if (vector == NULL) {
            return false;
        }
        memcpy(field, &vector, sizeof vector);
        return true;
    }
    case MATRIX: {
        struct rwkv_matrix matrix = matrix_view(record, base, record->ne[0], record->ne[1], 0);
        memcpy(field, &matrix, sizeof matrix);
        return true;
    }
    case MATRIX_SLICES5: {
        for (size_t s = 0; s < 5; s++) {
            struct rwkv_matrix matrix = matrix_view(record, base, record->ne[0], record->ne[1], s * record->ne[1]);
            memcpy(field + s * sizeof matrix, &matrix, sizeof matrix);
        }
        return true;
    }
    }
    return false;
}

/* The block index of "blocks.<n>.<rest>", or -1 if the name has another form. */
static long long block_index(const struct rwkv_tensor_record * record) {
    static const char prefix[] = "blocks.";
    size_t prefix_length = sizeof prefix - 1;
    if (record->name_length <= prefix_length || memcmp(record->name, prefix, prefix_length) != 0) {
        return -1;
    }
    long long value = 0;
    size_t i = prefix_length;
    while (i < record->name_length && record->name[i] >= '0' && record->name[i] <= '9' && value < (1ll << 40)) {
        value = value * 10 + (record->name[i] - '0');
        i++;
    }
    if (i == prefix_length || i >= record->name_length || record->name[i] != '.') {
        return -1;
    }
    return value;
}

static bool load_all_tensors(struct loader * loader) {
    struct rwkv_model * model = loader->model;
    struct rwkv_tensor_table table = rwkv_layer_tensors(model->arch);
    struct rwkv_tensor_table globals = rwkv_global_tensors();

    /* Size the arena from the specs before reading anything into it. */
    size_t arena_floats = 0;
    for (size_t i = 0; i < globals.count; i++) {
        arena_floats += arena_floats_for(loader, &globals.specs[i]);
    }
    for (size_t i = 0; i < table.count; i++) {
        arena_floats += arena_floats_for(loader, &table.specs[i]) * model->n_layer;
    }
    model->arena = rwkv_aligned_alloc(64, (arena_floats + 16) * sizeof(float));
    model->layers = calloc(model->n_layer, sizeof *model->layers);
    if (model->arena == NULL || model->layers == NULL) {
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_ALLOC,
                              "out of memory loading the model");
    }
    loader->arena_size = arena_floats;

    for (size_t i = 0; i < globals.count; i++) {
        if (!load_tensor(loader, &globals.specs[i], globals.specs[i].name, model)) {
            return false;
        }
    }
    char name[96];
    for (uint32_t layer = 0; layer < model->n_layer; layer++) {
        for (size_t i = 0; i < table.count; i++) {
            const struct rwkv_tensor_spec * spec = &table.specs[i];
            if ((spec->flags & NOT_IN_LAYER_0) && layer == 0) {
                continue;
            }
            snprintf(name, sizeof name, "blocks.%u.%s", layer, spec->name);
            if (!load_tensor(loader, spec, name, &model->layers[layer])) {
                return false;
            }
        }
    }

    /* Records the architecture does not use are skipped, except blocks beyond n_layer: those mean
       the header contradicts the file. */
    for (size_t i = 0; i < model->view.n_records; i++) {
        if (model->tensor_used[i]) {
            continue;
        }
        const struct rwkv_tensor_record * record = &model->view.records[i];
        char printable[128];
        rwkv_record_name_for_print(record, printable, sizeof printable);
        long long block = block_index(record);
        if (block >= (long long)model->n_layer) {
            return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DIMENSION,
                                  "tensor %s belongs to block %lld, but the header says n_layer = %u",
                                  printable, block, model->n_layer);
        }
        rwkv_log(loader->print, "skipping tensor %s: not used by this architecture", printable);
    }
    return true;
}

static bool check_embedding(struct loader * loader) {
    struct rwkv_model * model = loader->model;
    const struct rwkv_tensor_record * emb = require(loader, "emb.weight");
    if (emb == NULL) {
        return false;
    }
    if (emb->n_dims != 2) {
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_SHAPE,
                              "emb.weight has %u dimensions, expected 2", emb->n_dims);
    }
    if (emb->ne[0] != model->n_embed || emb->ne[1] != model->n_vocab) {
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DIMENSION,
                              "emb.weight is [%u, %u] but the header says n_embed = %u, n_vocab = %u",
                              emb->ne[0], emb->ne[1], model->n_embed, model->n_vocab);
    }
    if (model->n_embed == 0 || model->n_vocab == 0) {
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DIMENSION,
                              "n_embed and n_vocab must be positive");
    }
    return true;
}

static bool checked_mul(size_t a, size_t b, size_t * out) {
    if (a != 0 && b > SIZE_MAX / a) {
        return false;
    }
    *out = a * b;
    return true;
}

static bool copy_names(struct loader * loader) {
    struct rwkv_model * model = loader->model;
    size_t n = model->view.n_records;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += model->view.records[i].name_length + 1;
    }
    model->tensor_names = malloc(n * sizeof(char *) + total + 1);
    model->tensor_used = calloc(n + 1, sizeof(bool));
    if (model->tensor_names == NULL || model->tensor_used == NULL) {
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_ALLOC,
                              "out of memory loading the model");
    }
    char * text = (char *)(model->tensor_names + n);
    for (size_t i = 0; i < n; i++) {
        const struct rwkv_tensor_record * record = &model->view.records[i];
        model->tensor_names[i] = text;
        memcpy(text, record->name, record->name_length);
        text[record->name_length] = '\0';
        text += record->name_length + 1;
    }
    return true;
}

static bool load(struct loader * loader, const char * path) {
    struct rwkv_model * model = loader->model;
    if (!rwkv_map_file(path, &model->file, loader->error, loader->print)) {
        return false;
    }
    model->view.data = model->file.data;
    model->view.size = model->file.size;
    if (!rwkv_file_read_header(&model->view, loader->error, loader->print) ||
        !rwkv_file_read_records(&model->view, loader->error, loader->print)) {
        return false;
    }
    model->n_vocab = model->view.header.n_vocab;
    model->n_embed = model->view.header.n_embed;
    model->n_layer = model->view.header.n_layer;
    if (model->view.n_records == 0) {
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_PARAM_MISSING,
                              "the file has no tensors");
    }
    if (!copy_names(loader) || !index_names(loader) || !check_embedding(loader)) {
        return false;
    }
    if (model->n_layer == 0) {
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DIMENSION,
                              "the header says the model has no layers");
    }
    if (model->n_layer > model->view.n_records) {
        /* Each block needs several records; this bounds allocations by the file's own size. */
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_PARAM_MISSING,
                              "the header says n_layer = %u, but the file holds only %zu tensors",
                              model->n_layer, model->view.n_records);
    }
    model->arch = detect_architecture(loader);
    for (size_t i = 0; i < model->view.n_records; i++) {
        model->round_fp16_inputs |= rwkv_type_is_quantized(model->view.records[i].type);
    }
    if (!resolve_dims(loader) || !load_all_tensors(loader)) {
        return false;
    }
    size_t per_layer;
    bool ok = model->arch == RWKV_ARCH_V4
        ? checked_mul(5, model->n_embed, &per_layer)
        : checked_mul((size_t)model->head_size + 2, model->n_embed, &per_layer);
    if (!ok || !checked_mul(per_layer, model->n_layer, &model->state_len) ||
        model->state_len > SIZE_MAX / sizeof(float) / 4) {
        return rwkv_error_set(loader->error, loader->print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DIMENSION,
                              "the model's state would be too large");
    }
    return true;
}

struct rwkv_model * rwkv_model_load(const char * path, struct rwkv_error_slot * error, bool print) {
    struct rwkv_model * model = calloc(1, sizeof *model);
    if (model == NULL) {
        rwkv_error_set(error, print, RWKV_ERROR_CTX | RWKV_ERROR_ALLOC, "out of memory");
        return NULL;
    }
    atomic_init(&model->references, 1);
    struct loader loader = { .model = model, .error = error, .print = print };
    bool ok = load(&loader, path);
    free(loader.slots);
    if (!ok) {
        rwkv_model_release(model);
        return NULL;
    }
    return model;
}

void rwkv_model_retain(struct rwkv_model * model) {
    atomic_fetch_add(&model->references, 1);
}

void rwkv_model_release(struct rwkv_model * model) {
    if (model == NULL || atomic_fetch_sub(&model->references, 1) != 1) {
        return;
    }
    rwkv_gpu_release(model);
    rwkv_file_free_records(&model->view);
    rwkv_unmap_file(&model->file);
    free(model->tensor_names);
    free(model->tensor_used);
    free(model->layers);
    rwkv_aligned_free(model->arena);
    free(model);
}
