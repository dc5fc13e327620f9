#include "gpu/offload.h"

#include <string.h>

#include "gpu/device.h"
#include "model_arch.h"
#include "platform.h"

static size_t min_matrix_bytes = RWKV_GPU_MIN_MATRIX_BYTES;

void rwkv_gpu_set_min_matrix_bytes(size_t bytes) {
    min_matrix_bytes = bytes;
}

/* Uploads the matrices of owner (a layer, or the model for its globals) listed in table. */
static bool upload_matrices(void * owner, struct rwkv_tensor_table table, bool head_only) {
    for (size_t i = 0; i < table.count; i++) {
        const struct rwkv_tensor_spec * spec = &table.specs[i];
        if (spec->kind != MATRIX && spec->kind != MATRIX_SLICES5) {
            continue;
        }
        if (head_only && strcmp(spec->name, "head.weight") != 0) {
            continue;
        }
        struct rwkv_matrix * matrices = (struct rwkv_matrix *)((uint8_t *)owner + spec->field);
        int count = spec->kind == MATRIX_SLICES5 ? 5 : 1;
        for (int s = 0; s < count; s++) {
            struct rwkv_matrix * m = &matrices[s];
            const size_t bytes = (size_t)m->n_out * m->row_bytes;
            if (m->data == NULL || m->device != NULL || bytes < min_matrix_bytes) {
                continue;
            }
            m->device = rwkv_device_upload(m->data, bytes);
            if (m->device == NULL) {
                return false;
            }
            /* The device serves this matrix now: give its pages back (a fallback to the CPU reads
               them again from the file), so an offloaded model does not also fill host memory. */
            rwkv_release_mapped_pages(m->data, bytes);
        }
    }
    return true;
}

bool rwkv_gpu_offload(struct rwkv_model * model, uint32_t n_gpu_layers, bool print) {
    if (n_gpu_layers == 0 || !rwkv_device_available()) {
        return true;
    }
    const uint32_t layers = n_gpu_layers < model->n_layer ? n_gpu_layers : model->n_layer;
    bool ok = true;
    for (uint32_t layer = 0; ok && layer < layers; layer++) {
        ok = upload_matrices(&model->layers[layer], rwkv_layer_tensors(model->arch), false);
    }
    if (ok && n_gpu_layers > model->n_layer) {
        ok = upload_matrices(model, rwkv_global_tensors(), true);
    }
    if (!ok) {
        rwkv_gpu_release(model);
        rwkv_log(print, "cannot copy the weights of %u layers to %s; running on the CPU", layers, rwkv_device_name());
        return false;
    }
    model->gpu_layers = n_gpu_layers > model->n_layer ? model->n_layer + 1 : n_gpu_layers;
    rwkv_log(print, "%u of %u layers on %s", model->gpu_layers, model->n_layer + 1, rwkv_device_name());
    return true;
}

static void release_matrices(void * owner, struct rwkv_tensor_table table) {
    for (size_t i = 0; i < table.count; i++) {
        const struct rwkv_tensor_spec * spec = &table.specs[i];
        if (spec->kind != MATRIX && spec->kind != MATRIX_SLICES5) {
            continue;
        }
        struct rwkv_matrix * matrices = (struct rwkv_matrix *)((uint8_t *)owner + spec->field);
        for (int s = 0; s < (spec->kind == MATRIX_SLICES5 ? 5 : 1); s++) {
            rwkv_device_free((void *)matrices[s].device);
            matrices[s].device = NULL;
        }
    }
}

void rwkv_gpu_release(struct rwkv_model * model) {
    if (model->layers == NULL) {
        return;
    }
    for (uint32_t layer = 0; layer < model->n_layer; layer++) {
        release_matrices(&model->layers[layer], rwkv_layer_tensors(model->arch));
    }
    release_matrices(model, rwkv_global_tensors());
    model->gpu_layers = 0;
}
