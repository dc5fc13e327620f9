/* A tiny test harness for the C tests: checks that count failures, and test data lookup. */
#ifndef RWKV_TEST_UTIL_H
#define RWKV_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern int test_failures;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
            test_failures++;                                                            \
        }                                                                               \
    } while (0)

#define CHECK_MSG(cond, ...)                                                            \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                               \
            fputc('\n', stderr);                                                        \
            test_failures++;                                                            \
        }                                                                               \
    } while (0)

#define CHECK_EQ_INT(actual, expected)                                                             \
    do {                                                                                           \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                            \
        if (a_ != e_) {                                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (got %lld / 0x%llx, expected %lld / 0x%llx)\n", \
                    __FILE__, __LINE__, #actual, #expected, a_, (unsigned long long)a_, e_,        \
                    (unsigned long long)e_);                                                       \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

/* Returns 0 if no check failed, else 1, after printing a summary line. */
int test_finish(const char * name);

/* Path of a file under the test data folder (JRWKV_TESTDATA, else the build's default). Static buffer rotation: up to 8 live results. */
const char * testdata_path(const char * relative);

/* Reads a whole file; returns NULL if it cannot. *size receives the length. Free with free(). */
uint8_t * read_file(const char * path, size_t * size);

/* Writes a whole file; returns false on failure. */
bool write_file(const char * path, const void * data, size_t size);

/* A path for a scratch file in the build's temporary folder, unique per process and name. */
const char * temp_path(const char * name);

#endif
