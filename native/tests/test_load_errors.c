/*
 * Corrupt, truncated and hostile model files (file-format.md §5): every one must fail to load with
 * the documented error flags and a message, never crash or read outside the file. Run under
 * AddressSanitizer in CI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "tiny_models.h"

/* ---- A minimal, independent view of a model file, for building broken variants ---- */

struct record {
    char name[128];
    uint32_t type, n_dims, ne[3];
    const uint8_t * data;
    size_t bytes;
    size_t offset;          /* of the record in the original file */
};

struct model_file {
    uint8_t * bytes;
    size_t size;
    uint32_t header[6];
    struct record records[512];
    size_t count;
};

static uint32_t u32(const uint8_t * p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t * p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static size_t type_bytes(uint32_t type, size_t n) {
    switch (type) {
    case 0: return 4 * n;
    case 1: return 2 * n;
    case 7: return n / 32 * 22;
    case 8: return n / 32 * 24;
    case 9: return n / 32 * 34;
    default: return 0;
    }
}

static bool parse(const char * relative, struct model_file * file) {
    memset(file, 0, sizeof *file);
    file->bytes = read_file(testdata_path(relative), &file->size);
    if (file->bytes == NULL) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        file->header[i] = u32(file->bytes + 4 * i);
    }
    size_t at = 24;
    while (at < file->size && file->count < 512) {
        struct record * r = &file->records[file->count++];
        r->offset = at;
        r->n_dims = u32(file->bytes + at);
        uint32_t name_length = u32(file->bytes + at + 4);
        r->type = u32(file->bytes + at + 8);
        r->ne[0] = r->ne[1] = r->ne[2] = 1;
        for (uint32_t d = 0; d < r->n_dims; d++) {
            r->ne[d] = u32(file->bytes + at + 12 + 4 * d);
        }
        at += 12 + 4 * r->n_dims;
        memcpy(r->name, file->bytes + at, name_length);
        r->name[name_length] = '\0';
        at += name_length;
        r->data = file->bytes + at;
        r->bytes = type_bytes(r->type, (size_t)r->ne[0] * r->ne[1] * r->ne[2]);
        at += r->bytes;
    }
    return at == file->size;
}

static struct record * find_record(struct model_file * file, const char * name) {
    for (size_t i = 0; i < file->count; i++) {
        if (strcmp(file->records[i].name, name) == 0) {
            return &file->records[i];
        }
    }
    return NULL;
}

/* Writes header + records (in the given order) to a temporary file; returns its path. */
static const char * build(const struct model_file * file, const uint32_t header[6], const struct record * records,
                          size_t count, const char * name) {
    size_t size = 24;
    for (size_t i = 0; i < count; i++) {
        size += 12 + 4 * records[i].n_dims + strlen(records[i].name) + records[i].bytes;
    }
    uint8_t * out = malloc(size);
    for (int i = 0; i < 6; i++) {
        put32(out + 4 * i, header[i]);
    }
    size_t at = 24;
    for (size_t i = 0; i < count; i++) {
        const struct record * r = &records[i];
        put32(out + at, r->n_dims);
        put32(out + at + 4, (uint32_t)strlen(r->name));
        put32(out + at + 8, r->type);
        for (uint32_t d = 0; d < r->n_dims; d++) {
            put32(out + at + 12 + 4 * d, r->ne[d]);
        }
        at += 12 + 4 * r->n_dims;
        memcpy(out + at, r->name, strlen(r->name));
        at += strlen(r->name);
        memcpy(out + at, r->data, r->bytes);
        at += r->bytes;
    }
    const char * path = temp_path(name);
    CHECK(write_file(path, out, size));
    free(out);
    (void)file;
    return path;
}

static const char * write_bytes(const uint8_t * bytes, size_t size, const char * name) {
    const char * path = temp_path(name);
    CHECK(write_file(path, bytes, size));
    return path;
}

/* Loads path, which must fail with exactly `expected` flags and a message. */
static void expect_failure(const char * path, unsigned expected, const char * what) {
    struct rwkv_context * ctx = rwkv_init_from_file(path, 1, 0);
    unsigned flags = rwkv_get_last_error(NULL);
    const char * message = rwkv_get_last_error_message(NULL);
    CHECK_MSG(ctx == NULL, "%s: loaded although it is broken", what);
    CHECK_MSG(flags == expected, "%s: flags 0x%x, expected 0x%x (%s)", what, flags, expected, message);
    CHECK_MSG(message[0] != '\0', "%s: no message", what);
    rwkv_free(ctx);
}

/* Loads path, which must succeed and give the same logits for "in as the reference file. */
static void expect_same_logits(const char * path, const char * reference, const char * what) {
    static const uint32_t prompt[] = { 34, 105, 110 };
    float expected[TINY_N_VOCAB], logits[TINY_N_VOCAB];
    struct rwkv_context * ref = rwkv_init_from_file(testdata_path(reference), 1, 0);
    struct rwkv_context * ctx = rwkv_init_from_file(path, 1, 0);
    CHECK_MSG(ctx != NULL, "%s: %s", what, rwkv_get_last_error_message(NULL));
    if (ref != NULL && ctx != NULL) {
        CHECK(rwkv_eval_sequence(ref, prompt, 3, NULL, NULL, expected));
        CHECK(rwkv_eval_sequence(ctx, prompt, 3, NULL, NULL, logits));
        CHECK_MSG(memcmp(expected, logits, sizeof logits) == 0, "%s: logits differ", what);
    }
    rwkv_free(ref);
    rwkv_free(ctx);
}

static void test_open_errors(void) {
    expect_failure(temp_path("does-not-exist.bin"), 0x202, "missing file");
    expect_failure(RWKV_TEST_TMPDIR_FOR_DIRECTORY, 0x202, "directory");
    expect_failure(write_bytes((const uint8_t *)"", 0, "empty.bin"), 0x204, "empty file");
}

static void test_truncation(const char * relative) {
    struct model_file file;
    CHECK(parse(relative, &file));
    char what[128];
    for (size_t cut = 1; cut < 24; cut++) {
        snprintf(what, sizeof what, "%s cut at %zu", relative, cut);
        expect_failure(write_bytes(file.bytes, cut, "cut.bin"), 0x204, what);
    }
    expect_failure(write_bytes(file.bytes, 24, "cut.bin"), 0x40E, "header only");
    /* At each record boundary whole records are gone; just after it a record header is cut. */
    for (size_t i = 1; i < file.count; i += (i < 20 ? 1 : 7)) {
        size_t boundary = file.records[i].offset;
        snprintf(what, sizeof what, "%s cut at record %zu", relative, i);
        expect_failure(write_bytes(file.bytes, boundary, "cut.bin"), 0x40E, what);
        for (size_t extra = 1; extra < 12; extra += 5) {
            snprintf(what, sizeof what, "%s cut inside record %zu header", relative, i);
            expect_failure(write_bytes(file.bytes, boundary + extra, "cut.bin"), 0x404, what);
        }
        snprintf(what, sizeof what, "%s cut one byte short of record %zu", relative, i);
        expect_failure(write_bytes(file.bytes, boundary - 1, "cut.bin"), 0x404, what);
    }
    /* Offsets spread over the whole file: inside names and data, always a truncated record. */
    for (int k = 1; k <= 50; k++) {
        size_t cut = 24 + (file.size - 25) * (size_t)k / 51;
        bool at_boundary = false;
        for (size_t i = 0; i < file.count; i++) {
            at_boundary |= file.records[i].offset == cut;
        }
        snprintf(what, sizeof what, "%s cut at %zu", relative, cut);
        expect_failure(write_bytes(file.bytes, cut, "cut.bin"), at_boundary ? 0x40E : 0x404, what);
    }
    free(file.bytes);
}

static void test_header_fields(void) {
    struct model_file file;
    CHECK(parse("tiny/tiny-rwkv-5v2-730K-FP32.bin", &file));
    uint8_t * copy = malloc(file.size);
    struct { int field; uint32_t value; unsigned expected; const char * what; } cases[] = {
        { 0, 0x67676d67, 0x206, "wrong magic" },
        { 0, 0x666d6767, 0x206, "byte-swapped magic" },
        { 1, 99, 0x207, "version 99" },
        { 1, 102, 0x207, "version 102" },
        { 5, 4, 0x208, "header type Q4_1_O" },
        { 5, 6, 0x208, "header type Q4_3" },
        { 5, 10, 0x208, "header type Q8_1" },
        { 5, 17, 0x208, "header type 17" },
        { 5, 0xffffffff, 0x208, "header type 0xffffffff" },
        { 3, 65, 0x40B, "n_embed does not match emb" },
        { 2, 255, 0x40B, "n_vocab does not match emb" },
        { 2, 0xffffffff, 0x40B, "absurd n_vocab" },
        { 4, 13, 0x40E, "n_layer too large" },
        { 4, 0xffffffff, 0x40E, "absurd n_layer" },
        { 4, 11, 0x40B, "n_layer too small" },
        { 4, 0, 0x40B, "no layers" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(copy, file.bytes, file.size);
        put32(copy + 4 * cases[i].field, cases[i].value);
        expect_failure(write_bytes(copy, file.size, "header.bin"), cases[i].expected, cases[i].what);
    }
    free(copy);
    free(file.bytes);

    /* A version-100 file may not be quantized: its block layouts are the old ones. */
    CHECK(parse("tiny/tiny-rwkv-5v2-730K-Q5_1.bin", &file));
    put32(file.bytes + 4, 100);
    expect_failure(write_bytes(file.bytes, file.size, "v100-q.bin"), 0x208, "quantized version-100 header");
    put32(file.bytes + 20, 0);
    expect_failure(write_bytes(file.bytes, file.size, "v100-q.bin"), 0x408, "quantized records in a version-100 file");
    free(file.bytes);
}

static void test_record_fields(void) {
    struct model_file file;
    CHECK(parse("tiny/tiny-rwkv-5v2-730K-FP32.bin", &file));
    uint8_t * copy = malloc(file.size);
    size_t at = file.records[5].offset;
    struct { size_t offset; uint32_t value; unsigned expected; const char * what; } cases[] = {
        { 0, 0, 0x40A, "n_dims 0" },
        { 0, 4, 0x40A, "n_dims 4" },
        { 0, 0xffffffff, 0x40A, "n_dims 0xffffffff" },
        { 8, 5, 0x408, "record type Q4_2" },
        { 8, 10, 0x408, "record type Q8_1" },
        { 8, 17, 0x408, "record type 17" },
        { 8, 0xffffffff, 0x408, "record type 0xffffffff" },
        { 4, 0xfffffff0, 0x404, "huge name length" },
        { 12, 0xffffffff, 0x404, "absurd size" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(copy, file.bytes, file.size);
        put32(copy + at + cases[i].offset, cases[i].value);
        expect_failure(write_bytes(copy, file.size, "record.bin"), cases[i].expected, cases[i].what);
    }
    free(copy);
    free(file.bytes);
}

static void test_structure(void) {
    struct model_file file;
    CHECK(parse("tiny/tiny-rwkv-5v2-730K-FP32.bin", &file));
    static struct record records[520];
    uint32_t header[6];
    memcpy(header, file.header, sizeof header);

    /* Any record order loads and evaluates the same. */
    for (size_t i = 0; i < file.count; i++) {
        records[i] = file.records[file.count - 1 - i];
    }
    expect_same_logits(build(&file, header, records, file.count, "reversed.bin"), "tiny/tiny-rwkv-5v2-730K-FP32.bin",
                       "reversed records");

    /* An unknown extra record is skipped. */
    memcpy(records, file.records, file.count * sizeof records[0]);
    records[file.count] = *find_record(&file, "blocks.0.ln1.weight");
    strcpy(records[file.count].name, "something.unexpected");
    expect_same_logits(build(&file, header, records, file.count + 1, "extra.bin"), "tiny/tiny-rwkv-5v2-730K-FP32.bin",
                       "extra record");

    /* A missing tensor. */
    size_t missing = (size_t)(find_record(&file, "blocks.7.att.gate.weight") - file.records);
    memcpy(records, file.records, file.count * sizeof records[0]);
    records[missing] = records[file.count - 1];
    expect_failure(build(&file, header, records, file.count - 1, "missing.bin"), 0x40E, "missing tensor");

    /* A duplicate name. */
    memcpy(records, file.records, file.count * sizeof records[0]);
    strcpy(records[find_record(&file, "blocks.3.ln1.weight") - file.records].name, "blocks.3.ln2.weight");
    expect_failure(build(&file, header, records, file.count, "duplicate.bin"), 0x40C, "duplicate tensor");

    /* Wrong sizes and ranks. */
    memcpy(records, file.records, file.count * sizeof records[0]);
    struct record * key = &records[find_record(&file, "blocks.2.att.key.weight") - file.records];
    key->ne[1] = 32;
    key->bytes /= 2;
    expect_failure(build(&file, header, records, file.count, "shape.bin"), 0x40B, "matrix of the wrong size");
    key->ne[0] = 64 * 64;
    key->ne[1] = 1;
    key->n_dims = 1;
    key->bytes *= 2;
    expect_failure(build(&file, header, records, file.count, "rank.bin"), 0x40A, "matrix stored as a vector");

    memcpy(records, file.records, file.count * sizeof records[0]);
    struct record * norm = &records[find_record(&file, "blocks.2.ln1.weight") - file.records];
    norm->n_dims = 2;
    norm->ne[0] = 8;
    norm->ne[1] = 8;
    expect_failure(build(&file, header, records, file.count, "vector.bin"), 0x40B, "vector of the wrong shape");
    norm->n_dims = 1;
    norm->ne[0] = 32;
    norm->ne[1] = 1;
    norm->bytes /= 2;
    expect_failure(build(&file, header, records, file.count, "vector2.bin"), 0x40B, "vector too short");

    /* Quantized records: rows must be whole blocks, and vectors must stay FP32/FP16. */
    static uint8_t blocks[64 * 34];
    memset(blocks, 0, sizeof blocks);
    memcpy(records, file.records, file.count * sizeof records[0]);
    norm = &records[find_record(&file, "blocks.2.ln1.weight") - file.records];
    norm->type = 9;
    norm->data = blocks;
    norm->bytes = 2 * 34;
    header[5] = 9;
    expect_failure(build(&file, header, records, file.count, "qvector.bin"), 0x408, "quantized vector");
    norm->ne[0] = 16;
    norm->ne[1] = 4;
    norm->n_dims = 2;
    expect_failure(build(&file, header, records, file.count, "qrows.bin"), 0x40A, "quantized rows not whole blocks");
    header[5] = file.header[5];

    /* emb.weight must be 2-D. */
    memcpy(records, file.records, file.count * sizeof records[0]);
    records[find_record(&file, "emb.weight") - file.records].n_dims = 3;
    expect_failure(build(&file, header, records, file.count, "emb3d.bin"), 0x40A, "3-D embedding");
    free(file.bytes);

    /* v7: layer 0 v0/v1/v2 (kept by the converter when a checkpoint has them) are skipped. */
    CHECK(parse("tiny/tiny-rwkv-7v0-834K-FP32.bin", &file));
    memcpy(records, file.records, file.count * sizeof records[0]);
    const char * extra_names[] = { "blocks.1.att.v0", "blocks.1.att.v1", "blocks.1.att.v2" };
    for (int i = 0; i < 3; i++) {
        records[file.count + i] = *find_record(&file, extra_names[i]);
        records[file.count + i].name[7] = '0';
    }
    expect_same_logits(build(&file, file.header, records, file.count + 3, "v7-v0.bin"),
                       "tiny/tiny-rwkv-7v0-834K-FP32.bin", "v7 layer-0 v0/v1/v2");
    free(file.bytes);
}

/* Random corruption of the header and record headers: any outcome but a crash is acceptable. */
static void test_random_corruption(void) {
    struct model_file file;
    CHECK(parse("tiny/tiny-rwkv-7v0-834K-Q5_1.bin", &file));
    uint8_t * copy = malloc(file.size);
    uint32_t seed = 12345;
    int loaded = 0;
    for (int trial = 0; trial < 300; trial++) {
        memcpy(copy, file.bytes, file.size);
        for (int flips = 0; flips < 3; flips++) {
            seed = seed * 1664525u + 1013904223u;
            const struct record * r = &file.records[(seed >> 8) % file.count];
            seed = seed * 1664525u + 1013904223u;
            size_t span = 12 + 4 * r->n_dims + strlen(r->name);
            size_t at = (seed >> 4) % 3 == 0 ? (seed >> 8) % 24 : r->offset + (seed >> 8) % span;
            seed = seed * 1664525u + 1013904223u;
            copy[at] ^= (uint8_t)(1u << ((seed >> 16) % 8));
        }
        struct rwkv_context * ctx = rwkv_init_from_file(write_bytes(copy, file.size, "random.bin"), 1, 0);
        unsigned flags = rwkv_get_last_error(NULL);
        CHECK((ctx == NULL) == (flags != 0));
        if (ctx != NULL) {
            float logits[TINY_N_VOCAB];
            uint32_t tokens[3] = { 34, 105, 110 };
            size_t vocab = rwkv_get_n_vocab(ctx);
            for (int i = 0; i < 3; i++) {
                tokens[i] %= (uint32_t)vocab;
            }
            CHECK(rwkv_eval_sequence(ctx, tokens, 3, NULL, NULL, vocab == TINY_N_VOCAB ? logits : NULL));
            loaded++;
            rwkv_free(ctx);
        }
    }
    printf("random corruption: %d of 300 variants still loaded\n", loaded);
    free(copy);
    free(file.bytes);
}

int main(void) {
    rwkv_set_print_errors(NULL, false);
    test_open_errors();
    test_truncation("tiny/tiny-rwkv-5v2-730K-FP32.bin");
    test_truncation("tiny/tiny-rwkv-4v0-660K-FP16.bin");
    test_truncation("tiny/tiny-rwkv-6v0-3m-Q5_1.bin");
    test_header_fields();
    test_record_fields();
    test_structure();
    test_random_corruption();
    return test_finish("test_load_errors");
}
