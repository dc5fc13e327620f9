#include "tiny_models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

const char * const TINY_VERSIONS[TINY_VERSION_COUNT] = { "4v0-660K", "5v1-730K", "5v2-730K", "6v0-3m", "7v0-834K" };
const char * const TINY_FORMATS[TINY_FORMAT_COUNT] = { "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0" };

const float TINY_THRESHOLD_FP32[TINY_VERSION_COUNT] = { 0.001f, 0.001f, 0.001f, 0.001f, 0.001f };
const float TINY_THRESHOLD_FP16[TINY_VERSION_COUNT] = { -0.013652f, -0.289921f, +0.455912f, -0.416620f, +0.005766f };

const float TINY_THRESHOLD_FROM_FP32[TINY_VERSION_COUNT][TINY_FORMAT_COUNT] = {
    { -0.160030f, -0.547409f, -0.170404f, +0.278034f, +0.076282f },
    { +117.932594f, -26.712271f, -163.439407f, -18.017435f, +0.585238f },
    { +35.271305f, +67.015076f, +25.273308f, +48.068733f, -9.441034f },
    { -7.588121f, +21.939022f, -27.332073f, +3.576909f, -9.539596f },
    { +0.136785f, +0.002614f, -0.063645f, -0.064663f, +0.011924f },
};

const float TINY_THRESHOLD_FROM_FP16[TINY_VERSION_COUNT][TINY_FORMAT_COUNT] = {
    { +0.154614f, -0.539827f, -0.180142f, +0.294953f, +0.077226f },
    { +119.471931f, -28.245888f, -159.870956f, -39.708530f, -0.962695f },
    { +34.135971f, +65.573822f, +21.588751f, +29.726818f, -7.242277f },
    { -7.660988f, +21.797060f, -27.269241f, +3.405264f, -9.734720f },
    { +0.136678f, -0.005140f, -0.064447f, -0.063531f, +0.010921f },
};

const float TINY_THRESHOLD_SHIPPED[TINY_VERSION_COUNT][2] = {
    { -0.170404f, +0.278034f },
    { -163.439407f, -18.017435f },
    { +25.273308f, +48.068733f },
    { -21.151785f, +3.576909f },
    { -0.063645f, -0.064663f },
};

float tiny_diff_sum(const float * logits, const float * expected, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) {
        sum += logits[i] - expected[i];
    }
    return sum;
}

bool tiny_passes(float diff_sum, float threshold) {
    return fabsf(diff_sum) <= fabsf(threshold) * 1.05f;
}

bool tiny_expected_logits(const char * stem, float * out) {
    char name[256];
    snprintf(name, sizeof name, "tiny/expected-logits-%s.bin", stem);
    size_t size;
    uint8_t * data = read_file(testdata_path(name), &size);
    if (data == NULL || size != TINY_N_VOCAB * sizeof(float)) {
        free(data);
        return false;
    }
    memcpy(out, data, size); /* little-endian file, little-endian hosts */
    free(data);
    return true;
}
