package org.jrwkv;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.ref.WeakReference;

/** Waiting for the garbage collector, in tests. */
final class Gc {

    private Gc() {
    }

    /** Runs the collector until {@code ref} is cleared; fails after ~10 s. */
    static void awaitCollection(WeakReference<?> ref) throws InterruptedException {
        for (int i = 0; i < 200 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(50);
        }
        if (ref.get() != null) {
            fail("object was never collected: does its cleaning action refer to it?");
        }
    }
}
