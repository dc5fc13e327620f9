/* The tiny test models of testdata/tiny and the logit-difference rule of rwkv.cpp's tests. */
#ifndef RWKV_TINY_MODELS_H
#define RWKV_TINY_MODELS_H

#include <stdbool.h>
#include <stddef.h>

#include "rwkv.h"

#define TINY_VERSION_COUNT 5
#define TINY_N_VOCAB 256

/* File name stems, e.g. "4v0-660K": tiny/tiny-rwkv-<stem>-FP32.bin, tiny/expected-logits-<stem>.bin. */
extern const char * const TINY_VERSIONS[TINY_VERSION_COUNT];

/* Quantized formats in the order of the threshold tables. */
#define TINY_FORMAT_COUNT 5
extern const char * const TINY_FORMATS[TINY_FORMAT_COUNT];

/* c-api.md §5 thresholds. */
extern const float TINY_THRESHOLD_FP32[TINY_VERSION_COUNT];
extern const float TINY_THRESHOLD_FP16[TINY_VERSION_COUNT];
extern const float TINY_THRESHOLD_FROM_FP32[TINY_VERSION_COUNT][TINY_FORMAT_COUNT];
extern const float TINY_THRESHOLD_FROM_FP16[TINY_VERSION_COUNT][TINY_FORMAT_COUNT];
/* Shipped Q5_0 / Q5_1 files (compatibility test; 7v0 uses its FP32 -> Q5_x rows). */
extern const float TINY_THRESHOLD_SHIPPED[TINY_VERSION_COUNT][2];

/* Signed sum of (logits - expected) in float32, index order. */
float tiny_diff_sum(const float * logits, const float * expected, size_t n);

/* The pass rule: |sum| <= |threshold| * 1.05 in float32. */
bool tiny_passes(float diff_sum, float threshold);

/* Loads expected-logits-<stem>.bin into out (256 floats). */
bool tiny_expected_logits(const char * stem, float * out);

#endif
