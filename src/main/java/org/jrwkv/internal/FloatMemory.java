package org.jrwkv.internal;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A zero-filled off-heap float array, freed by {@link #run()} (so that it can be a cleaning
 * action that refers to the memory but not to the object that owns it).
 *
 * <p>The memory comes from {@code calloc} directly rather than from JavaCPP's allocator, because
 * JavaCPP refuses new allocations once the process's resident size passes a limit derived from the
 * Java heap, and a memory-mapped model of many gigabytes is resident by design.
 *
 * <p>Internal: not part of the public API. Not thread-safe; owners serialize access.
 */
public final class FloatMemory implements Runnable {

    private final long length;
    private final FloatPointer pointer;
    private final FloatBuffer buffer;
    private boolean freed;

    /**
     * Allocates {@code length} floats, all 0.
     *
     * @param length number of floats, at least 1
     * @throws OutOfMemoryError if the allocation fails
     */
    public FloatMemory(long length) {
        if (length < 1 || length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("length out of range: " + length);
        }
        NativeLib.ensureLoaded();
        Pointer raw = Pointer.calloc(length, Float.BYTES);
        if (raw == null || raw.isNull()) {
            throw new OutOfMemoryError("cannot allocate " + length + " floats off-heap");
        }
        this.length = length;
        this.pointer = new FloatPointer(raw).capacity(length).limit(length);
        this.buffer = pointer.asBuffer();
    }

    /** Number of floats. */
    public long length() {
        return length;
    }

    /** The memory as a JavaCPP pointer, for native calls. */
    public FloatPointer pointer() {
        return pointer;
    }

    /**
     * The memory as a direct buffer in native byte order (position 0, limit = length). Callers
     * must not use it after {@link #run()}.
     */
    public FloatBuffer buffer() {
        return buffer;
    }

    /** Copies all floats from {@code other}, which must have the same length. */
    public void copyFrom(FloatMemory other) {
        if (other.length != length) {
            throw new IllegalArgumentException("length mismatch: " + other.length + " != " + length);
        }
        Pointer.memcpy(pointer, other.pointer, length * Float.BYTES);
    }

    /** Frees the memory; later calls do nothing. */
    @Override
    public void run() {
        if (!freed) {
            freed = true;
            Pointer.free(pointer);
        }
    }
}
