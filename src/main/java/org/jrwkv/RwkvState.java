package org.jrwkv;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.jrwkv.internal.AtomicFiles;
import org.jrwkv.internal.FloatMemory;
import org.jrwkv.internal.NativeLib;

/**
 * The recurrent state of an RWKV model: everything the model remembers of the tokens it has seen.
 * Lives off-heap ({@link #length()} floats; tens of megabytes for large models) and is updated in
 * place by {@link RwkvModel#eval(int, RwkvState, Logits)}, never copied per token.
 *
 * <p>A state belongs to the shape (architecture and dimensions) of the model that created it and
 * can be used with that model and with its {@linkplain RwkvModel#copy() copies}. It can be
 * exported to bytes or a file and imported back; the exported form carries the shape and a
 * checksum, and importing a state of another shape, or a damaged one, is refused.
 *
 * <p>Not thread-safe: use one state from one thread at a time. Close it when done; a forgotten
 * state is freed when it becomes unreachable. Methods of a closed state throw
 * {@link IllegalStateException}.
 */
public final class RwkvState implements AutoCloseable {

    private static final AtomicLong IDS = new AtomicLong();

    private final RwkvModel owner;
    private final StateShape shape;
    private final FloatMemory memory;
    private final Cleaner.Cleanable cleanable;
    /** Orders the locks of two states in {@link #copyFrom}; see there. */
    private final long id = IDS.incrementAndGet();
    private final Object lock = new Object();
    private boolean closed;

    /** A zero-filled state; the caller initializes it. */
    RwkvState(RwkvModel owner, StateShape shape) {
        this.owner = owner;
        this.shape = shape;
        this.memory = new FloatMemory(shape.length());
        this.cleanable = NativeLib.cleaner().register(this, memory);
    }

    /** Number of floats in this state (the model's {@link RwkvModel#stateLength()}). */
    public int length() {
        return shape.length();
    }

    /** A new state with the same content. */
    public RwkvState copy() {
        synchronized (lock) {
            ensureOpen();
            RwkvState copy = new RwkvState(owner, shape);
            copy.memory.copyFrom(memory);
            return copy;
        }
    }

    /**
     * Overwrites this state with the content of {@code other}.
     *
     * @throws IllegalArgumentException if {@code other} belongs to a model of another shape
     */
    public void copyFrom(RwkvState other) {
        Objects.requireNonNull(other, "other");
        if (other == this) {
            synchronized (lock) {
                ensureOpen();
            }
            return;
        }
        requireSameShape(other.shape);
        // Two locks, always taken in the order of creation, so that a.copyFrom(b) and
        // b.copyFrom(a) on two threads cannot deadlock.
        RwkvState first = id < other.id ? this : other;
        RwkvState second = first == this ? other : this;
        synchronized (first.lock) {
            synchronized (second.lock) {
                ensureOpen();
                other.ensureOpen();
                memory.copyFrom(other.memory);
            }
        }
    }

    /**
     * Resets this state to the initial state of its model (what a model has seen before the first
     * token).
     *
     * @throws IllegalStateException if this state or the model that created it is closed
     */
    public void reset() {
        owner.initState(this);
    }

    /** The state's floats as a new array (for inspection; evaluation never needs this). */
    public float[] toArray() {
        synchronized (lock) {
            ensureOpen();
            float[] values = new float[shape.length()];
            memory.buffer().duplicate().get(values);
            return values;
        }
    }

    /**
     * Overwrites this state with {@code values}.
     *
     * @throws IllegalArgumentException if {@code values.length != length()}
     */
    public void fromArray(float[] values) {
        Objects.requireNonNull(values, "values");
        if (values.length != shape.length()) {
            throw new IllegalArgumentException("expected " + shape.length() + " floats, got " + values.length);
        }
        synchronized (lock) {
            ensureOpen();
            memory.buffer().duplicate().put(values);
        }
    }

    /**
     * Exports this state with a header that binds it to the model's shape (format: magic
     * "JRWKVST", format version, architecture, n_embed, n_layer, head size, length, the floats in
     * little-endian order, CRC-32).
     *
     * @return the exported bytes, {@code 40 + 4 * length()} of them
     */
    public byte[] exportBytes() {
        synchronized (lock) {
            ensureOpen();
            return StateFormat.encode(shape, memory.buffer());
        }
    }

    /**
     * Overwrites this state with one exported by {@link #exportBytes()} or
     * {@link #exportTo(Path)}. Nothing is changed if the input is refused.
     *
     * @throws IllegalArgumentException if the bytes are not an exported state, are damaged or
     *                                  truncated, or belong to a model of another shape
     */
    public void importBytes(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        importFrom(bytes, "state data");
    }

    /**
     * Exports this state to a file, in the format of {@link #exportBytes()}. The file is written
     * to a temporary file beside it and renamed, so it is either complete or unchanged.
     *
     * @throws IOException if the file cannot be written
     */
    public void exportTo(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        byte[] bytes = exportBytes();
        AtomicFiles.write(file, channel -> {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        });
    }

    /**
     * Overwrites this state with one exported to a file. Nothing is changed if the file is
     * refused.
     *
     * @throws IOException              if the file cannot be read
     * @throws IllegalArgumentException if the file is not an exported state, is damaged or
     *                                  truncated, or belongs to a model of another shape
     */
    public void importFrom(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        String source = "state file " + file;
        long size = Files.size(file);
        if (size > StateFormat.encodedSize(shape.length())) {
            throw new IllegalArgumentException(source + " is " + size + " bytes, larger than a state of this model ("
                    + StateFormat.encodedSize(shape.length()) + " bytes)");
        }
        importFrom(Files.readAllBytes(file), source);
    }

    private void importFrom(byte[] bytes, String source) {
        synchronized (lock) {
            ensureOpen();
            StateFormat.decode(bytes, shape, memory.buffer(), source);
        }
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

    StateShape shape() {
        return shape;
    }

    RwkvModel owner() {
        return owner;
    }

    Object lock() {
        return lock;
    }

    long id() {
        return id;
    }

    /** The memory, for a native call made while holding {@link #lock()}. */
    FloatMemory memoryForNativeCall() {
        ensureOpen();
        return memory;
    }

    void requireSameShape(StateShape other) {
        if (!shape.equals(other)) {
            throw new IllegalArgumentException("state belongs to another model (" + other + "); expected " + shape);
        }
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("state is closed");
        }
    }

    @Override
    public String toString() {
        return "RwkvState[" + shape + (isClosed() ? ", closed]" : "]");
    }
}
