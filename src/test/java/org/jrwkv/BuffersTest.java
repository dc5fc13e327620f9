package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The logits buffer, without a model. */
class BuffersTest {

    @Test
    void logitsStartAtZeroAndCloseOnce() {
        Logits logits = new Logits(300);
        assertEquals(300, logits.length());
        assertEquals(0f, logits.get(299));
        assertEquals(0, logits.argmax());
        assertArrayEquals(new float[300], logits.toArray());
        assertThrows(IndexOutOfBoundsException.class, () -> logits.get(300));
        assertThrows(IndexOutOfBoundsException.class, () -> logits.get(-1));
        assertThrows(IllegalArgumentException.class, () -> logits.copyTo(new float[299]));
        float[] bigger = new float[301];
        bigger[300] = 5f;
        logits.copyTo(bigger);
        assertEquals(5f, bigger[300]);

        logits.close();
        logits.close();
        assertTrue(logits.isClosed());
        assertThrows(IllegalStateException.class, () -> logits.get(0));
        assertThrows(IllegalStateException.class, logits::argmax);
        assertThrows(IllegalStateException.class, logits::toArray);
        assertEquals(300, logits.length(), "length stays readable");
    }

    /**
     * The cleaning action must not refer to its owner, or the owner could never be collected (and
     * the memory never freed): a forgotten buffer must become unreachable.
     */
    @Test
    void forgottenBuffersCanBeCollected() throws InterruptedException {
        Gc.awaitCollection(forget());
    }

    private static java.lang.ref.WeakReference<Logits> forget() {
        Logits forgotten = new Logits(1 << 16);
        forgotten.get(0);
        return new java.lang.ref.WeakReference<>(forgotten);
    }
}
