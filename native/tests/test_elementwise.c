/*
 * The inline element-wise functions of ops.h that replace libm or a branch in hot loops:
 * rwkv_exp's accuracy and edge cases, rwkv_relu_squared's values at the edges.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ops.h"
#include "test_util.h"

/* Distance from x to the float nearest `exact`, in units of that float's last place. */
static double ulps(float x, double exact) {
    float nearest = (float)exact;
    double ulp = (double)nextafterf(nearest, INFINITY) - (double)nearest;
    return fabs((double)x - exact) / ulp;
}

static float from_bits(uint32_t bits) {
    float x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static uint32_t to_bits(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

static void test_exp_accuracy(void) {
    /* Every 256th float of the range where the result is a normal float: the positive ones up to
       88.37, then the negative ones down to -87.33 (for negative floats, more bits = more magnitude). */
    double worst = 0.0;
    float worst_at = 0.0f;
    size_t checked = 0;
    const uint32_t ends[2][2] = { { 0, to_bits(88.37f) }, { to_bits(-0.0f), to_bits(-87.33f) } };
    for (int side = 0; side < 2; side++) {
        for (uint32_t bits = ends[side][0]; bits <= ends[side][1]; bits += 256, checked++) {
            float x = from_bits(bits);
            double error = ulps(rwkv_exp(x), exp((double)x));
            if (error > worst) {
                worst = error;
                worst_at = x;
            }
        }
    }
    CHECK(checked > 8000000);
    CHECK_MSG(worst <= 1.0, "rwkv_exp is %.3f ulp off at %.9g", worst, (double)worst_at);
}

static void test_exp_edges(void) {
    CHECK(rwkv_exp(0.0f) == 1.0f);
    CHECK(rwkv_exp(-0.0f) == 1.0f);
    CHECK(rwkv_exp(1.0f) == expf(1.0f));
    /* v4's state starts its exponent offset at -1e30: the history must weigh exactly nothing. */
    CHECK(rwkv_exp(-1e30f) == 0.0f);
    CHECK(rwkv_exp(-INFINITY) == 0.0f);
    CHECK(rwkv_exp(-90.0f) == 0.0f);
    CHECK(rwkv_exp(100.0f) == INFINITY);
    CHECK(rwkv_exp(INFINITY) == INFINITY);
    CHECK(isnan(rwkv_exp(NAN)));
    CHECK(rwkv_exp(88.0f) > 1e38f && isfinite(rwkv_exp(88.0f)));
    CHECK(rwkv_exp(-87.0f) >= FLT_MIN);
}

static void test_relu_squared(void) {
    CHECK(rwkv_relu_squared(3.0f) == 9.0f);
    CHECK(rwkv_relu_squared(-3.0f) == 0.0f);
    CHECK(rwkv_relu_squared(FLT_MIN) == 0.0f);  /* underflows like the branch did */
    CHECK(rwkv_relu_squared(1e20f) == INFINITY);
    CHECK(rwkv_relu_squared(NAN) == 0.0f);
    CHECK(rwkv_relu_squared(-INFINITY) == 0.0f);
    /* No negative zero: its sign bit is masked off with the rest. */
    float zero = rwkv_relu_squared(-0.0f);
    CHECK(zero == 0.0f && !signbit(zero));
}

int main(void) {
    test_exp_accuracy();
    test_exp_edges();
    test_relu_squared();
    return test_finish("test_elementwise");
}
