package org.jrwkv;

import java.lang.ref.Cleaner;
import java.nio.FloatBuffer;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.jrwkv.internal.FloatMemory;
import org.jrwkv.internal.NativeLib;

/**
 * A reusable off-heap buffer for the logits of one evaluation: one raw score (before softmax)
 * per token of the vocabulary. Create it once with {@link RwkvModel#newLogits()} and pass it to
 * every evaluation, so that nothing is allocated per token.
 *
 * <p>Not thread-safe: use one buffer from one thread at a time. Close it when done; a forgotten
 * buffer is freed when it becomes unreachable. Methods of a closed buffer throw
 * {@link IllegalStateException}.
 */
public final class Logits implements AutoCloseable {

    private static final AtomicLong IDS = new AtomicLong();

    private final FloatMemory memory;
    private final FloatBuffer view;
    private final Cleaner.Cleanable cleanable;
    /** Orders the locks of several buffers in {@link RwkvModel#evalBatch}. */
    private final long id = IDS.incrementAndGet();
    private final Object lock = new Object();
    private boolean closed;

    /** A zero-filled buffer of {@code length} floats. */
    Logits(int length) {
        this.memory = new FloatMemory(length);
        this.view = memory.buffer();
        this.cleanable = NativeLib.cleaner().register(this, memory);
    }

    /** Number of logits (the model's vocabulary size). */
    public int length() {
        return (int) memory.length();
    }

    /**
     * The logit of token {@code index}.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, length())}
     */
    public float get(int index) {
        Objects.checkIndex(index, length());
        synchronized (lock) {
            ensureOpen();
            return view.get(index);
        }
    }

    /** The token with the highest logit (the first one if several are equal). */
    public int argmax() {
        synchronized (lock) {
            ensureOpen();
            int best = 0;
            float bestValue = view.get(0);
            for (int i = 1, n = length(); i < n; i++) {
                float v = view.get(i);
                if (v > bestValue) {
                    bestValue = v;
                    best = i;
                }
            }
            return best;
        }
    }

    /**
     * Copies all logits into {@code target[0 .. length())}.
     *
     * @throws IllegalArgumentException if {@code target} is shorter than {@link #length()}
     */
    public void copyTo(float[] target) {
        Objects.requireNonNull(target, "target");
        if (target.length < length()) {
            throw new IllegalArgumentException("target has " + target.length + " floats, need " + length());
        }
        synchronized (lock) {
            ensureOpen();
            view.duplicate().get(target, 0, length());
        }
    }

    /** All logits in a new array. */
    public float[] toArray() {
        float[] values = new float[length()];
        copyTo(values);
        return values;
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /** Frees the native memory. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (!closed) {
                closed = true;
                cleanable.clean();
            }
        }
    }

    // ---- for RwkvModel: callers hold lock() ----

    Object lock() {
        return lock;
    }

    long id() {
        return id;
    }

    FloatMemory memoryForNativeCall() {
        ensureOpen();
        return memory;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("logits buffer is closed");
        }
    }

    @Override
    public String toString() {
        return "Logits[" + length() + (isClosed() ? ", closed]" : "]");
    }
}
