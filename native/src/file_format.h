/*
 * The rwkv.cpp model file format (file-format.md): a 24-byte header, then tensor records to the
 * end of the file. Everything here validates untrusted bytes: every size is checked against the
 * file length with overflow-safe arithmetic, and nothing is read outside [data, data + size).
 */
#ifndef RWKV_FILE_FORMAT_H
#define RWKV_FILE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define RWKV_FILE_HEADER_SIZE 24

struct rwkv_file_header {
    uint32_t magic;
    uint32_t version;
    uint32_t n_vocab;
    uint32_t n_embed;
    uint32_t n_layer;
    uint32_t data_type;
};

struct rwkv_tensor_record {
    const char * name;      /* points into the file: name_length bytes, not NUL-terminated */
    uint32_t name_length;
    uint32_t type;
    uint32_t n_dims;
    uint32_t ne[3];         /* missing trailing dims are 1 */
    uint64_t n_elements;
    uint64_t record_offset; /* where the record starts */
    uint64_t data_offset;   /* where its data starts */
    uint64_t data_bytes;
};

/* A validated view of a whole file held in memory (usually a mapping). */
struct rwkv_file_view {
    const uint8_t * data;
    uint64_t size;
    /* data is a file mapping read only for record headers (the quantizer): rwkv_file_read_records
       gives its pages back behind each record, since a fault on a file cached in large folios
       maps a whole folio (up to 2 MiB per header touched). */
    bool release_parsed_pages;
    struct rwkv_file_header header;
    struct rwkv_tensor_record * records;
    size_t n_records;
};

/*
 * Parses and validates the header: size, magic, version, data type (file-format.md §5), with the
 * FILE category. Fills view->header.
 */
bool rwkv_file_read_header(struct rwkv_file_view * view, struct rwkv_error_slot * error, bool print);

/*
 * Parses every record to the end of the file (MODEL_PARAMS category): n_dims, type, sizes, name,
 * data bounds, quantized rows whose length is not a whole number of blocks, quantized records in a
 * version-100 file. Allocates view->records (free with rwkv_file_free_records).
 */
bool rwkv_file_read_records(struct rwkv_file_view * view, struct rwkv_error_slot * error, bool print);

void rwkv_file_free_records(struct rwkv_file_view * view);

/* True if the record's name equals the NUL-terminated name. */
bool rwkv_record_name_is(const struct rwkv_tensor_record * record, const char * name);

/* Copies the record's name into buffer as a printable NUL-terminated string (truncated if needed). */
const char * rwkv_record_name_for_print(const struct rwkv_tensor_record * record, char * buffer, size_t size);

/* Little-endian u32 at p (no alignment needed). */
static inline uint32_t rwkv_read_u32le(const uint8_t * p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void rwkv_write_u32le(uint8_t * p, uint32_t value) {
    p[0] = (uint8_t)value;
    p[1] = (uint8_t)(value >> 8);
    p[2] = (uint8_t)(value >> 16);
    p[3] = (uint8_t)(value >> 24);
}

#endif
