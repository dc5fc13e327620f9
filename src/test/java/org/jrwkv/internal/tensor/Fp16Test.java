package org.jrwkv.internal.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** binary16 conversions: exact widening, round-to-nearest-even narrowing, the edge cases of file-format.md §6. */
class Fp16Test {

    @Test
    void everyHalfWidensExactlyAndRoundTrips() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Fp16.toFloat((short) h);
            boolean nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
            if (nan) {
                assertTrue(Float.isNaN(f));
                assertEquals((short) ((h & 0x8000) | 0x7E00), Fp16.fromFloat(f), Integer.toHexString(h));
            } else {
                assertEquals((short) h, Fp16.fromFloat(f), Integer.toHexString(h));
            }
        }
    }

    /** The nearest half by brute force over the neighbours of the candidate (ties to even). */
    private static short nearest(float x) {
        short guess = Fp16.fromFloat(x);
        double best = Double.POSITIVE_INFINITY;
        short bestHalf = guess;
        for (int d = -2; d <= 2; d++) {
            int h = (guess & 0xFFFF) + d;
            if (h < 0 || h > 0xFFFF || ((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0)) {
                continue;
            }
            float v = Fp16.toFloat((short) h);
            if (Math.signum(v) != Math.signum(x) && v != 0) {
                continue;
            }
            double err = Math.abs((double) v - x);
            if (err < best || (err == best && (h & 1) == 0)) {
                best = err;
                bestHalf = (short) h;
            }
        }
        return bestHalf;
    }

    @Test
    void narrowingRoundsToNearestEven() {
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 200_000; i++) {
            float x = Float.intBitsToFloat(r.nextInt(0x477FE000)); // below the overflow threshold
            assertEquals(nearest(x), Fp16.fromFloat(x), Float.toString(x));
        }
        assertEquals((short) 0x7BFF, Fp16.fromFloat(65519.99f));
        assertEquals((short) 0x7C00, Fp16.fromFloat(65520f), "ties at the top round to infinity");
        assertEquals((short) 0xFC00, Fp16.fromFloat(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x8000, Fp16.fromFloat(-0f));
        assertEquals((short) 0x0000, Fp16.fromFloat(0x1p-25f), "half the smallest subnormal ties to 0");
        assertEquals((short) 0x0001, Fp16.fromFloat(0x1.000002p-25f));
        assertEquals((short) 0x0400, Fp16.fromFloat(0x1.ffcp-15f), "the largest subnormal's neighbour rounds up to normal");
        assertEquals((short) 0x3C00, Fp16.fromFloat(1.0004883f), "1 + 2^-11 ties to even (1.0)");
        assertEquals((short) 0x3C02, Fp16.fromFloat(1.0014648f), "1 + 3*2^-11 ties to even (1 + 2^-9)");
    }
}
