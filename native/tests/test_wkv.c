/*
 * v7's WKV head: the blocked form (sixteen state rows at a time) against the row-by-row form, bit
 * for bit, over several tokens of evolving state, at head sizes the dispatcher sends each way.
 */
#include <string.h>

#include "test_util.h"
#include "wkv.h"

#define TOKENS 5
#define MAX_S 256

/* A fixed pseudo-random sequence: the same inputs on every machine. */
static uint32_t next_random(uint32_t * seed) {
    *seed = *seed * 1664525u + 1013904223u;
    return *seed >> 8;
}

/* Uniform in [lo, hi). */
static float random_in(uint32_t * seed, float lo, float hi) {
    return lo + (hi - lo) * (float)next_random(seed) / 16777216.0f;
}

static void fill(uint32_t * seed, float * x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) {
        x[i] = random_in(seed, lo, hi);
    }
}

static void check_head_size(size_t S) {
    static float blocked[MAX_S * MAX_S], by_rows[MAX_S * MAX_S];
    float r[MAX_S], w[MAX_S], k[MAX_S], v[MAX_S], kk[MAX_S], a[MAX_S], out_blocked[MAX_S], out_rows[MAX_S];
    uint32_t seed = (uint32_t)S;
    fill(&seed, blocked, S * S, -1.0f, 1.0f);
    memcpy(by_rows, blocked, S * S * sizeof(float));
    for (int t = 0; t < TOKENS; t++) {
        /* v7's ranges: decay in (0, 1), kk a unit-ish direction, a a sigmoid. */
        fill(&seed, r, S, -1.0f, 1.0f);
        fill(&seed, w, S, 0.05f, 1.0f);
        fill(&seed, k, S, -1.0f, 1.0f);
        fill(&seed, v, S, -2.0f, 2.0f);
        fill(&seed, kk, S, -0.3f, 0.3f);
        fill(&seed, a, S, 0.0f, 1.0f);
        rwkv_wkv7_head(S, r, w, k, v, kk, a, blocked, out_blocked);
        rwkv_wkv7_head_by_rows(S, r, w, k, v, kk, a, by_rows, out_rows);
        CHECK_MSG(memcmp(out_blocked, out_rows, S * sizeof(float)) == 0, "head size %zu, token %d: outputs differ", S,
                  t);
        CHECK_MSG(memcmp(blocked, by_rows, S * S * sizeof(float)) == 0, "head size %zu, token %d: states differ", S, t);
    }
    /* The comparison means something only if the state moved and stayed finite. */
    bool finite = true;
    for (size_t i = 0; i < S * S; i++) {
        finite = finite && blocked[i] == blocked[i] && blocked[i] < 1e30f && blocked[i] > -1e30f;
    }
    CHECK_MSG(finite, "head size %zu: the state left the finite range", S);
    CHECK_MSG(out_rows[0] != 0.0f, "head size %zu: a zero output", S);
}

int main(void) {
    /* 64: every released v7 model (its own constant-size version); 16, 32, 48, 128, 256: other
       multiples of 16 (blocked); 8, 24, 40: not (row by row both ways, the dispatch's fallback). */
    const size_t sizes[] = { 8, 16, 24, 32, 40, 48, 64, 128, 256 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        check_head_size(sizes[i]);
    }
    return test_finish("test_wkv");
}
