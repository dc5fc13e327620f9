#include "file_format.h"

#include <stdlib.h>
#include <string.h>

#include "data_types.h"
#include "platform.h"
#include "rwkv.h"

/* How far behind the parse point pages are given back (release_parsed_pages). */
#define RELEASE_STEP_BYTES ((uint64_t)4 << 20)

bool rwkv_file_read_header(struct rwkv_file_view * view, struct rwkv_error_slot * error, bool print) {
    if (view->size < RWKV_FILE_HEADER_SIZE) {
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_READ,
                              "file is too short for a model header (%llu bytes, need %d)",
                              (unsigned long long)view->size, RWKV_FILE_HEADER_SIZE);
    }
    const uint8_t * p = view->data;
    struct rwkv_file_header * header = &view->header;
    header->magic = rwkv_read_u32le(p);
    header->version = rwkv_read_u32le(p + 4);
    header->n_vocab = rwkv_read_u32le(p + 8);
    header->n_embed = rwkv_read_u32le(p + 12);
    header->n_layer = rwkv_read_u32le(p + 16);
    header->data_type = rwkv_read_u32le(p + 20);

    if (header->magic != RWKV_FILE_MAGIC) {
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_MAGIC,
                              "not an rwkv.cpp model file (magic 0x%08x, expected 0x%08x)",
                              header->magic, RWKV_FILE_MAGIC);
    }
    if (header->version < RWKV_FILE_VERSION_MIN || header->version > RWKV_FILE_VERSION_MAX) {
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_VERSION,
                              "unsupported file version %u (supported: %d to %d)",
                              header->version, RWKV_FILE_VERSION_MIN, RWKV_FILE_VERSION_MAX);
    }
    if (!rwkv_type_is_supported(header->data_type)) {
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_DATA_TYPE,
                              "unsupported data type %u in the file header", header->data_type);
    }
    if (header->version == RWKV_FILE_VERSION_0 && rwkv_type_is_quantized(header->data_type)) {
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_DATA_TYPE,
                              "quantized %s file with version 100 uses an old block layout; re-quantize it from FP32 or FP16",
                              rwkv_type_name(header->data_type));
    }
    return true;
}

const char * rwkv_record_name_for_print(const struct rwkv_tensor_record * record, char * buffer, size_t size) {
    size_t length = record->name_length < size - 1 ? record->name_length : size - 1;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)record->name[i];
        buffer[i] = (c >= 0x20 && c != 0x7f) ? (char)c : '?';
    }
    buffer[length] = '\0';
    return buffer;
}

bool rwkv_record_name_is(const struct rwkv_tensor_record * record, const char * name) {
    size_t length = strlen(name);
    return record->name_length == length && memcmp(record->name, name, length) == 0;
}

/* Reads the record starting at *offset; advances *offset past it. */
static bool read_record(const struct rwkv_file_view * view, uint64_t * offset, struct rwkv_tensor_record * record,
                        struct rwkv_error_slot * error, bool print) {
    const uint64_t start = *offset;
    const uint64_t size = view->size;
    const uint8_t * p = view->data;
    char name[128];

    if (size - start < 12) {
        return rwkv_error_set(error, print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_FILE_READ,
                              "tensor record at offset %llu is truncated (header)", (unsigned long long)start);
    }
    uint32_t n_dims = rwkv_read_u32le(p + start);
    uint32_t name_length = rwkv_read_u32le(p + start + 4);
    uint32_t type = rwkv_read_u32le(p + start + 8);
    if (n_dims < 1 || n_dims > 3) {
        return rwkv_error_set(error, print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_SHAPE,
                              "tensor record at offset %llu has %u dimensions (expected 1 to 3)",
                              (unsigned long long)start, n_dims);
    }
    if (!rwkv_type_is_supported(type)) {
        return rwkv_error_set(error, print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DATA_TYPE,
                              "tensor record at offset %llu has unsupported data type %u",
                              (unsigned long long)start, type);
    }
    uint64_t position = start + 12;
    if (size - position < 4ull * n_dims) {
        return rwkv_error_set(error, print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_FILE_READ,
                              "tensor record at offset %llu is truncated (dimensions)", (unsigned long long)start);
    }
    record->ne[0] = record->ne[1] = record->ne[2] = 1;
    for (uint32_t i = 0; i < n_dims; i++) {
        record->ne[i] = rwkv_read_u32le(p + position + 4ull * i);
    }
    position += 4ull * n_dims;
    if (size - position < name_length) {
        return rwkv_error_set(error, print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_FILE_READ,
                              "tensor record at offset %llu is truncated (name of %u bytes)",
                              (unsigned long long)start, name_length);
    }
    record->name = (const char *)(p + position);
    record->name_length = name_length;
    record->type = type;
    record->n_dims = n_dims;
    position += name_length;

    /* Three u32 sizes multiply to at most 2^96: check each step. */
    uint64_t n = (uint64_t)record->ne[0] * record->ne[1];
    if (record->ne[2] != 0 && n > UINT64_MAX / record->ne[2]) {
        return rwkv_error_set(error, print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DIMENSION,
                              "tensor %s has an impossible size %u x %u x %u",
                              rwkv_record_name_for_print(record, name, sizeof name),
                              record->ne[0], record->ne[1], record->ne[2]);
    }
    n *= record->ne[2];
    record->n_elements = n;
    if (rwkv_type_is_quantized(type) && record->ne[0] % RWKV_QK != 0) {
        return rwkv_error_set(error, print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_SHAPE,
                              "quantized tensor %s has rows of %u elements, not a multiple of %d",
                              rwkv_record_name_for_print(record, name, sizeof name), record->ne[0], RWKV_QK);
    }
    if (rwkv_type_is_quantized(type) && view->header.version == RWKV_FILE_VERSION_0) {
        return rwkv_error_set(error, print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DATA_TYPE,
                              "quantized tensor %s in a version-100 file uses an old block layout",
                              rwkv_record_name_for_print(record, name, sizeof name));
    }
    uint64_t bytes;
    if (!rwkv_type_data_bytes(type, n, &bytes)) {
        return rwkv_error_set(error, print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_DIMENSION,
                              "tensor %s has an impossible size", rwkv_record_name_for_print(record, name, sizeof name));
    }
    if (size - position < bytes) {
        return rwkv_error_set(error, print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_FILE_READ,
                              "tensor %s is truncated: needs %llu bytes of data, the file has %llu left",
                              rwkv_record_name_for_print(record, name, sizeof name),
                              (unsigned long long)bytes, (unsigned long long)(size - position));
    }
    record->record_offset = start;
    record->data_offset = position;
    record->data_bytes = bytes;
    *offset = position + bytes;
    return true;
}

bool rwkv_file_read_records(struct rwkv_file_view * view, struct rwkv_error_slot * error, bool print) {
    view->records = NULL;
    view->n_records = 0;
    size_t capacity = 0;
    uint64_t offset = RWKV_FILE_HEADER_SIZE;
    uint64_t released = 0;
    while (offset < view->size) {
        if (view->release_parsed_pages && offset - released >= RELEASE_STEP_BYTES) {
            rwkv_release_mapped_pages(view->data + released, (size_t)(offset - released));
            released = offset;
        }
        if (view->n_records == capacity) {
            /* Every record takes at least 16 bytes, which bounds the growth by the file size. */
            size_t new_capacity = capacity == 0 ? 256 : capacity * 2;
            struct rwkv_tensor_record * grown = realloc(view->records, new_capacity * sizeof *grown);
            if (grown == NULL) {
                rwkv_file_free_records(view);
                return rwkv_error_set(error, print, RWKV_ERROR_MODEL_PARAMS | RWKV_ERROR_ALLOC,
                                      "out of memory reading tensor records");
            }
            view->records = grown;
            capacity = new_capacity;
        }
        if (!read_record(view, &offset, &view->records[view->n_records], error, print)) {
            rwkv_file_free_records(view);
            return false;
        }
        view->n_records++;
    }
    if (view->release_parsed_pages) {
        rwkv_release_mapped_pages(view->data, (size_t)view->size);
    }
    return true;
}

void rwkv_file_free_records(struct rwkv_file_view * view) {
    free(view->records);
    view->records = NULL;
    view->n_records = 0;
}
