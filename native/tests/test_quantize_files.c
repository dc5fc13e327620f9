/*
 * The quantizer at file level (file-format.md §10): quantizing the tiny FP32 files reproduces the
 * Q5_0/Q5_1 files shipped with rwkv.cpp byte for byte, and every failure leaves no output file.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rwkv.h"
#include "test_util.h"

static bool exists(const char * path) {
    FILE * file = fopen(path, "rb");
    if (file != NULL) {
        fclose(file);
    }
    return file != NULL;
}

/* No "<name>.tmp-*" leftovers of this process's interrupted writes in the scratch folder (other
   tests, run in parallel by ctest -j, write their own temporary files there meanwhile). */
static int temp_leftovers(void) {
    DIR * dir = opendir(RWKV_TEST_TMPDIR_FOR_DIRECTORY);
    int count = 0;
    if (dir == NULL) {
        return 0;
    }
    /* This process's scratch names start like temp_path's: "<pid>-". */
    const char * prefix = temp_path("");
    const char * mine = strrchr(prefix, '/') != NULL ? strrchr(prefix, '/') + 1 : prefix;
    struct dirent * entry;
    while ((entry = readdir(dir)) != NULL) {
        count += strncmp(entry->d_name, mine, strlen(mine)) == 0 && strstr(entry->d_name, ".tmp-") != NULL;
    }
    closedir(dir);
    return count;
}

static void test_shipped_files(void) {
    const char * versions[] = { "4v0-660K", "5v1-730K", "5v2-730K", "7v0-834K" };
    const char * formats[] = { "Q5_0", "Q5_1" };
    char name[256];
    for (size_t v = 0; v < 4; v++) {
        for (size_t f = 0; f < 2; f++) {
            snprintf(name, sizeof name, "tiny/tiny-rwkv-%s-FP32.bin", versions[v]);
            const char * out = temp_path("shipped.bin");
            CHECK_MSG(rwkv_quantize_model_file(testdata_path(name), out, formats[f]), "%s to %s: %s", name, formats[f],
                      rwkv_get_last_error_message(NULL));
            snprintf(name, sizeof name, "tiny/tiny-rwkv-%s-%s.bin", versions[v], formats[f]);
            size_t ours_size, shipped_size;
            uint8_t * ours = read_file(out, &ours_size);
            uint8_t * shipped = read_file(testdata_path(name), &shipped_size);
            CHECK(ours != NULL && shipped != NULL);
            bool identical = ours != NULL && shipped != NULL && ours_size == shipped_size &&
                             memcmp(ours, shipped, ours_size) == 0;
            CHECK_MSG(identical, "quantized %s differs from the shipped file (%zu vs %zu bytes)", name, ours_size,
                      shipped_size);
            printf("%-40s %s\n", name, identical ? "byte-identical" : "DIFFERENT");
            free(ours);
            free(shipped);
            remove(out);
        }
    }
}

static void expect_failure(const char * in, const char * out, const char * format, unsigned expected, const char * what) {
    remove(out);
    CHECK_MSG(!rwkv_quantize_model_file(in, out, format), "%s: succeeded", what);
    unsigned flags = rwkv_get_last_error(NULL);
    CHECK_MSG(flags == expected, "%s: flags 0x%x, expected 0x%x (%s)", what, flags, expected,
              rwkv_get_last_error_message(NULL));
    CHECK_MSG(!exists(out), "%s: left an output file", what);
}

static void test_refusals(void) {
    const char * fp32 = testdata_path("tiny/tiny-rwkv-5v2-730K-FP32.bin");
    const char * out = temp_path("failed.bin");
    const char * bad_formats[] = { "FP32", "FP16", "q5_1", "Q8_1", "Q4_K", "", "Q5_1 " };
    for (size_t i = 0; i < sizeof bad_formats / sizeof bad_formats[0]; i++) {
        expect_failure(fp32, out, bad_formats[i], 0x108, bad_formats[i]);
    }
    expect_failure(fp32, out, NULL, 0x108, "NULL format");
    expect_failure(temp_path("missing-input.bin"), out, "Q5_1", 0x202, "missing input");
    expect_failure(testdata_path("tiny/tiny-rwkv-5v2-730K-Q5_1.bin"), out, "Q5_0", 0x200, "already quantized input");
    expect_failure(fp32, RWKV_TEST_TMPDIR_FOR_DIRECTORY "/no-such-folder/out.bin", "Q5_1", 0x202, "output folder missing");

    /* A truncated input is refused before anything is written. */
    size_t size;
    uint8_t * bytes = read_file(fp32, &size);
    const char * truncated = temp_path("truncated-input.bin");
    CHECK(write_file(truncated, bytes, size - 1000));
    expect_failure(truncated, out, "Q5_1", 0x404, "truncated input");
    free(bytes);

    /* An existing output is replaced only by a complete file. */
    CHECK(write_file(out, "old", 3));
    CHECK(!rwkv_quantize_model_file(truncated, out, "Q5_1"));
    size_t old_size;
    uint8_t * old = read_file(out, &old_size);
    CHECK(old != NULL && old_size == 3);
    free(old);
    CHECK(rwkv_quantize_model_file(fp32, out, "Q8_0"));
    uint8_t * fresh = read_file(out, &old_size);
    CHECK(fresh != NULL && old_size > 1000 && fresh[20] == 9 && fresh[4] == 101);
    free(fresh);
    remove(out);
    remove(truncated);
    CHECK_EQ_INT(temp_leftovers(), 0);
}

int main(void) {
    rwkv_set_print_errors(NULL, false);
    test_shipped_files();
    test_refusals();
    return test_finish("test_quantize_files");
}
