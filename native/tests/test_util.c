#include "test_util.h"

#include <string.h>
#if defined(_WIN32)
#include <process.h>
#define getpid _getpid
#else
#include <unistd.h>
#endif

int test_failures = 0;

int test_finish(const char * name) {
    if (test_failures == 0) {
        printf("%s: all checks passed\n", name);
        return 0;
    }
    printf("%s: %d check(s) failed\n", name, test_failures);
    return 1;
}

static char * next_buffer(void) {
    static char buffers[8][1024];
    static int next = 0;
    char * buffer = buffers[next];
    next = (next + 1) % 8;
    return buffer;
}

const char * testdata_path(const char * relative) {
    const char * root = getenv("JRWKV_TESTDATA");
    if (root == NULL || root[0] == '\0') {
        root = RWKV_TESTDATA_DEFAULT;
    }
    char * buffer = next_buffer();
    snprintf(buffer, 1024, "%s/%s", root, relative);
    return buffer;
}

uint8_t * read_file(const char * path, size_t * size) {
    FILE * file = fopen(path, "rb");
    if (file == NULL) {
        return NULL;
    }
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    uint8_t * data = malloc(length > 0 ? (size_t)length : 1);
    if (data != NULL && fread(data, 1, (size_t)length, file) != (size_t)length) {
        free(data);
        data = NULL;
    }
    fclose(file);
    *size = (size_t)length;
    return data;
}

bool write_file(const char * path, const void * data, size_t size) {
    FILE * file = fopen(path, "wb");
    if (file == NULL) {
        return false;
    }
    bool ok = fwrite(data, 1, size, file) == size;
    return fclose(file) == 0 && ok;
}

const char * temp_path(const char * name) {
    char * buffer = next_buffer();
    snprintf(buffer, 1024, "%s/%ld-%s", RWKV_TEST_TMPDIR, (long)getpid(), name);
    return buffer;
}
