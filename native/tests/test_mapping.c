/*
 * Weights are memory-mapped, not copied: loading a large model must not make the process touch
 * (let alone copy) its weights, so resident memory grows by far less than the file size.
 * Linux-only measurement (/proc/self/status); elsewhere the test reports that it cannot measure.
 */
#define _POSIX_C_SOURCE 200809L /* posix_fadvise, fileno */
#define _DEFAULT_SOURCE         /* mincore */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#endif

#include "error.h"
#include "platform.h"
#include "rwkv.h"
#include "test_util.h"

#define C 1024
#define F 1024
#define V 16384
#define LAYERS 2

/* A /proc/self/status field in KiB, or -1. */
static long status_kib(const char * field) {
    FILE * status = fopen("/proc/self/status", "r");
    if (status == NULL) {
        return -1;
    }
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, status) != NULL) {
        if (strncmp(line, field, strlen(field)) == 0) {
            kib = strtol(line + strlen(field), NULL, 10);
        }
    }
    fclose(status);
    return kib;
}

static void put_record(FILE * file, const char * name, uint32_t ne0, uint32_t ne1, float fill) {
    uint32_t n_dims = ne1 == 1 ? 1 : 2;
    uint32_t header[5] = { n_dims, (uint32_t)strlen(name), 0, ne0, ne1 };
    fwrite(header, 4, 3 + n_dims, file);
    fwrite(name, 1, strlen(name), file);
    static float row[V > C ? V : C];
    for (uint32_t i = 0; i < ne0; i++) {
        row[i] = fill * (float)((i * 7u) % 13u) / 13.0f;
    }
    for (uint32_t r = 0; r < ne1; r++) {
        fwrite(row, 4, ne0, file);
    }
}

/* A v4 model of about 180 MB with small deterministic weights. */
static const char * write_model(void) {
    const char * path = temp_path("large-v4.bin");
    FILE * file = fopen(path, "wb");
    uint32_t header[6] = { 0x67676d66, 101, V, C, LAYERS, 0 };
    fwrite(header, 4, 6, file);
    put_record(file, "emb.weight", C, V, 0.01f);
    put_record(file, "blocks.0.ln0.weight", C, 1, 1.0f);
    put_record(file, "blocks.0.ln0.bias", C, 1, 0.0f);
    char name[64];
    const char * vectors[] = { "ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias", "att.time_mix_k", "att.time_mix_v",
                               "att.time_mix_r", "att.time_first", "att.time_decay", "ffn.time_mix_k", "ffn.time_mix_r" };
    const char * square[] = { "att.key.weight", "att.value.weight", "att.receptance.weight", "att.output.weight",
                              "ffn.receptance.weight" };
    for (int layer = 0; layer < LAYERS; layer++) {
        for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
            snprintf(name, sizeof name, "blocks.%d.%s", layer, vectors[i]);
            put_record(file, name, C, 1, i == 8 ? -1.0f : 0.5f);
        }
        for (size_t i = 0; i < sizeof square / sizeof square[0]; i++) {
            snprintf(name, sizeof name, "blocks.%d.%s", layer, square[i]);
            put_record(file, name, C, C, 0.02f);
        }
        snprintf(name, sizeof name, "blocks.%d.ffn.key.weight", layer);
        put_record(file, name, C, F, 0.02f);
        snprintf(name, sizeof name, "blocks.%d.ffn.value.weight", layer);
        put_record(file, name, F, C, 0.02f);
    }
    put_record(file, "ln_out.weight", C, 1, 1.0f);
    put_record(file, "ln_out.bias", C, 1, 0.0f);
    put_record(file, "head.weight", C, V, 0.01f);
    CHECK(fclose(file) == 0);
    return path;
}

/* rwkv_release_mapped_pages (GPU offload gives offloaded weights back): resident memory falls, the
   bytes read afterwards are still the file's. */
static void check_release(const char * path, size_t file_size) {
    struct rwkv_mapped_file file;
    struct rwkv_error_slot error = { 0 };
    CHECK_MSG(rwkv_map_file(path, &file, &error, false), "%s", error.message);
    if (file.data == NULL) {
        return;
    }
    uint64_t sum_before = 0, sum_after = 0;
    for (size_t i = 0; i < file.size; i += 64) {
        sum_before += file.data[i] * (uint64_t)(i / 64 % 251 + 1);
    }
    const long touched = status_kib("VmRSS:");
    rwkv_release_mapped_pages(file.data, (size_t)file.size);
    const long released = status_kib("VmRSS:");
    for (size_t i = 0; i < file.size; i += 64) {
        sum_after += file.data[i] * (uint64_t)(i / 64 % 251 + 1);
    }
    CHECK_MSG(sum_after == sum_before, "the released pages read back different bytes");
    if (touched >= 0 && released >= 0) {
        printf("reading the mapping: resident %.1f MiB; after releasing it: %.1f MiB\n", touched / 1024.0,
               released / 1024.0);
#if defined(__linux__)
        CHECK_MSG((touched - released) * 1024.0 > file_size * 0.9, "releasing %zu bytes freed only %ld KiB",
                  file_size, touched - released);
#endif
    }
    rwkv_unmap_file(&file);
}

/* rwkv_read_mapped_file (embedding rows): the file's bytes, as the mapping shows them, at any offset
   inside the file, and a refusal past its end. Runs on every platform. */
static void check_positional_reads(const char * path) {
    struct rwkv_mapped_file file;
    struct rwkv_error_slot error = { 0 };
    CHECK_MSG(rwkv_map_file(path, &file, &error, false), "%s", error.message);
    if (file.data == NULL) {
        return;
    }
    uint8_t buffer[5000];
    const uint64_t offsets[] = { 0, 1, 4093, file.size / 2 + 3, file.size - sizeof buffer };
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        memset(buffer, 0xa5, sizeof buffer);
        CHECK_MSG(rwkv_read_mapped_file(&file, offsets[i], buffer, sizeof buffer), "reading at %llu failed",
                  (unsigned long long)offsets[i]);
        CHECK_MSG(memcmp(buffer, file.data + offsets[i], sizeof buffer) == 0, "bytes at %llu differ from the mapping",
                  (unsigned long long)offsets[i]);
    }
    CHECK(!rwkv_read_mapped_file(&file, file.size - 10, buffer, 11));
    CHECK(!rwkv_read_mapped_file(&file, file.size + 1, buffer, 0));
    CHECK(rwkv_read_mapped_file(&file, file.size, buffer, 0));
    rwkv_unmap_file(&file);
    CHECK(!rwkv_read_mapped_file(&file, 0, buffer, 1));
}

/*
 * The quantizer reads tensor data with stdio and the mapping only for record headers, so its
 * resident memory stays near its buffers whatever the page cache holds. Where the file is cached
 * in large folios, each header read through the mapping used to map a whole folio of up to 2 MiB
 * (v7 1.5B FP16 -> Q5_1: 410 MB peak instead of 15). Linux: VmHWM, reset through clear_refs.
 */
static void check_quantizer_resident(const char * path) {
#if defined(__linux__)
    /* Drop the file from the page cache and read it back through a mapping, as loading a model
       does: readahead then caches it in large folios where the file system supports them. */
    FILE * file = fopen(path, "rb");
    CHECK(file != NULL && posix_fadvise(fileno(file), 0, 0, POSIX_FADV_DONTNEED) == 0);
    fclose(file);
    struct rwkv_mapped_file mapped;
    struct rwkv_error_slot error = { 0 };
    CHECK_MSG(rwkv_map_file(path, &mapped, &error, false), "%s", error.message);
    volatile uint8_t sink = 0;
    for (size_t i = 0; mapped.data != NULL && i < mapped.size; i += 4096) {
        sink += mapped.data[i];
    }
    rwkv_unmap_file(&mapped);

    FILE * refs = fopen("/proc/self/clear_refs", "w");
    if (refs == NULL || fputs("5", refs) < 0 || fclose(refs) != 0) {
        printf("test_mapping: cannot reset the peak resident memory; quantizer not measured\n");
        return;
    }
    const long before = status_kib("VmHWM:");
    const char * out = temp_path("large-v4-q5_1.bin");
    CHECK_MSG(rwkv_quantize_model_file(path, out, "Q5_1"), "%s", rwkv_get_last_error_message(NULL));
    const long peak = status_kib("VmHWM:");
    remove(out);
    if (before >= 0 && peak >= 0) {
        printf("quantizing: peak resident memory grew by %.1f MiB\n", (peak - before) / 1024.0);
        /* Its buffers: an 8 MiB input chunk, its quantized rows, a float row per thread (11 MiB
           here; 41 MiB when headers mapped whole folios). AddressSanitizer adds shadow memory. */
#if defined(__SANITIZE_ADDRESS__)
        const long limit_kib = 64 * 1024;
#else
        const long limit_kib = 24 * 1024;
#endif
        CHECK_MSG(peak - before < limit_kib, "quantizing grew the peak resident memory by %ld KiB", peak - before);
    }
#else
    (void)path;
#endif
}

/*
 * Decoding reads one embedding row per token. Read through the mapping, each row's page stays
 * resident, and where the file is cached in large folios so does the whole folio around it (up to
 * 2 MiB): over a long conversation, most of the embedding matrix. Rows are read from the file
 * instead, so evaluating tokens from all over the vocabulary leaves resident memory where it was.
 */
static void check_embedding_not_resident(struct rwkv_context * ctx) {
#if defined(__linux__)
    enum { TOKENS = 512 };
    uint32_t tokens[TOKENS];
    for (uint32_t i = 0; i < TOKENS; i++) {
        tokens[i] = 0; /* first the same row throughout: scratch buffers and the other weights settle */
    }
    CHECK(rwkv_eval_sequence(ctx, tokens, TOKENS, NULL, NULL, NULL));
    for (uint32_t i = 0; i < TOKENS; i++) {
        tokens[i] = i * (V / TOKENS); /* rows 128 KiB apart: a page each, and a folio each where 2 MiB */
    }
    const long before = status_kib("VmRSS:");
    CHECK(rwkv_eval_sequence(ctx, tokens, TOKENS, NULL, NULL, NULL));
    const long after = status_kib("VmRSS:");
    if (before >= 0 && after >= 0) {
        printf("evaluating %d tokens spread over the vocabulary: resident memory grew by %ld KiB\n", TOKENS,
               after - before);
        /* Through the mapping: at least one 4 KiB page per row, 2 MiB in all. */
        CHECK_MSG(after - before < 1024, "embedding rows stayed resident: %ld KiB", after - before);
    }
#else
    (void)ctx;
#endif
}

#if defined(__linux__)
/* The share of a file's pages the page cache holds (mincore on a mapping that touches none). */
static double cached_share(const char * path) {
    int fd = open(path, O_RDONLY);
    struct stat info;
    if (fd < 0 || fstat(fd, &info) != 0 || info.st_size == 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1.0;
    }
    const size_t size = (size_t)info.st_size;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t pages = (size + page - 1) / page;
    void * mapping = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    unsigned char * resident = malloc(pages);
    double share = -1.0;
    if (mapping != MAP_FAILED && resident != NULL && mincore(mapping, size, resident) == 0) {
        size_t count = 0;
        for (size_t i = 0; i < pages; i++) {
            count += resident[i] & 1;
        }
        share = (double)count / (double)pages;
    }
    free(resident);
    if (mapping != MAP_FAILED) {
        munmap(mapping, size);
    }
    close(fd);
    return share;
}
#endif

/*
 * Files the engine writes leave the page cache once they are on disk, so that the first mapping
 * reads them back in 2 MiB pages (platform.h, rwkv_drop_cached_pages): the quantizer's and the
 * random-model writer's outputs, and any file given to rwkv_drop_file_cache. A file system that
 * keeps files in memory (tmpfs) cannot drop them; there the test says so and checks only the API.
 */
static void check_written_files_leave_cache(const char * model_path) {
    CHECK(!rwkv_drop_file_cache(temp_path("no-such-file.bin")));
    CHECK_MSG(rwkv_get_last_error(NULL) == (RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN), "error 0x%x",
              (unsigned)rwkv_get_last_error(NULL));
    CHECK(!rwkv_drop_file_cache(NULL));

    const char * quantized = temp_path("large-v4-q8_0.bin");
    CHECK_MSG(rwkv_quantize_model_file(model_path, quantized, "Q8_0"), "%s", rwkv_get_last_error_message(NULL));
    const char * random = temp_path("random-v7.bin");
    CHECK_MSG(rwkv_write_random_model(random, RWKV_ARCH_V7, 256, 2, 4096, "FP16", 7), "%s",
              rwkv_get_last_error_message(NULL));
    /* Written by stdio, as another program would: cached until dropped. */
    const char * plain = temp_path("plain.bin");
    FILE * file = fopen(plain, "wb");
    static uint8_t chunk[1 << 20];
    memset(chunk, 0x5a, sizeof chunk);
    for (int i = 0; file != NULL && i < 16; i++) {
        CHECK(fwrite(chunk, 1, sizeof chunk, file) == sizeof chunk);
    }
    CHECK(file != NULL && fclose(file) == 0);
#if defined(__linux__)
    struct statfs fs;
    if (statfs(plain, &fs) == 0 && fs.f_type == 0x01021994 /* TMPFS_MAGIC */) {
        printf("test_mapping: scratch files are on tmpfs, which cannot drop cached pages; not measured\n");
    } else {
        const double plain_before = cached_share(plain);
        CHECK(rwkv_drop_file_cache(plain));
        const double plain_after = cached_share(plain), quantized_share = cached_share(quantized),
                     random_share = cached_share(random);
        printf("cached share of written files: plain %.2f -> %.2f after rwkv_drop_file_cache; quantized %.2f, "
               "random model %.2f\n",
               plain_before, plain_after, quantized_share, random_share);
        CHECK_MSG(plain_before > 0.9, "a file just written is not cached (%.2f): nothing to measure", plain_before);
        CHECK_MSG(plain_after >= 0.0 && plain_after < 0.1, "rwkv_drop_file_cache left %.2f cached", plain_after);
        CHECK_MSG(quantized_share >= 0.0 && quantized_share < 0.1, "the quantizer left %.2f of its output cached",
                  quantized_share);
        CHECK_MSG(random_share >= 0.0 && random_share < 0.1, "the random-model writer left %.2f cached",
                  random_share);
    }
#else
    CHECK(rwkv_drop_file_cache(plain));
#endif
    /* Dropping the cache loses nothing: the files still load and read back whole. */
    struct rwkv_context * ctx = rwkv_init_from_file(random, 1, 0);
    CHECK_MSG(ctx != NULL, "%s", rwkv_get_last_error_message(NULL));
    rwkv_free(ctx);
    file = fopen(plain, "rb");
    size_t same = 0;
    for (int i = 0; file != NULL && i < 16; i++) {
        memset(chunk, 0, sizeof chunk);
        const bool whole = fread(chunk, 1, sizeof chunk, file) == sizeof chunk;
        same += whole && chunk[0] == 0x5a && chunk[sizeof chunk - 1] == 0x5a;
    }
    CHECK(file != NULL && same == 16);
    if (file != NULL) {
        fclose(file);
    }
    remove(quantized);
    remove(random);
    remove(plain);
}

int main(void) {
    rwkv_set_print_errors(NULL, false);
    const char * path = write_model();
    size_t file_size;
    FILE * probe = fopen(path, "rb");
    fseek(probe, 0, SEEK_END);
    file_size = (size_t)ftell(probe);
    fclose(probe);

    long before = status_kib("VmRSS:");
    long virtual_before = status_kib("VmSize:");
    clock_t start = clock();
    struct rwkv_context * ctx = rwkv_init_from_file(path, 1, 0);
    double load_seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
    long after = status_kib("VmRSS:");
    long virtual_after = status_kib("VmSize:");
    CHECK_MSG(ctx != NULL, "%s", rwkv_get_last_error_message(NULL));
    if (before < 0 || after < 0) {
        printf("test_mapping: cannot read resident memory on this platform; load took %.3f s\n", load_seconds);
    } else {
        long grown = after - before;
        printf("file %.1f MiB, resident memory grew by %.1f MiB on load (%.3f s of CPU)\n", file_size / 1048576.0,
               grown / 1024.0, load_seconds);
        /* Loading touches record headers and small vectors only: a few MiB, never the weights. */
        CHECK_MSG(grown * 1024.0 < file_size * 0.05, "loading grew resident memory by %ld KiB", grown);
        /* The mapping itself adds the file size to the address space; nothing else may be sized by
           the weights (a copy, or buffers for matrices), or large models fail to load. */
        long reserved = virtual_after - virtual_before;
        CHECK_MSG(reserved * 1024.0 < file_size + 32.0 * 1048576.0, "loading reserved %ld KiB of address space",
                  reserved);
    }
    if (ctx != NULL) {
        float * logits = malloc(V * sizeof(float));
        CHECK(rwkv_eval(ctx, 123, NULL, NULL, logits));
        int finite = 1;
        for (int i = 0; i < V; i++) {
            finite &= logits[i] == logits[i];
        }
        CHECK(finite);
        free(logits);
        check_embedding_not_resident(ctx);
        rwkv_free(ctx);
    }
    check_release(path, file_size);
    check_positional_reads(path);
    check_quantizer_resident(path);
    check_written_files_leave_cache(path);
    remove(path);
    return test_finish("test_mapping");
}
