package org.jrwkv.internal.tensor;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A read-only run of bytes with 64-bit offsets: a window of a memory-mapped file (split into
 * mappings of at most 1 GiB, since one Java mapping holds at most 2 GiB) or a heap buffer.
 *
 * <p>Closing a mapped region unmaps it at once rather than when the garbage collector gets to it,
 * so that converting a checkpoint of many gigabytes tensor by tensor keeps only the current
 * tensor's pages mapped. Using a region after {@link #close()} throws; regions never leave the
 * internal packages, and each is used by one thread.
 *
 * <p>Elements are aligned to their size relative to the region's start, so that no element
 * straddles two mappings.
 *
 * <p>Internal: not part of the public API.
 */
public final class ByteRegion implements AutoCloseable {

    private static final int CHUNK_SHIFT = 30;
    private static final long CHUNK_SIZE = 1L << CHUNK_SHIFT;
    private static final int CHUNK_MASK = (int) (CHUNK_SIZE - 1);

    private final long length;
    private final boolean mapped;
    private ByteBuffer[] chunks;

    private ByteRegion(ByteBuffer[] chunks, long length, boolean mapped) {
        this.chunks = chunks;
        this.length = length;
        this.mapped = mapped;
    }

    /**
     * Maps {@code length} bytes of a file, read-only.
     *
     * @param channel an open channel
     * @param offset  file offset of the first byte
     * @param length  number of bytes (the caller has checked offset + length against the file size)
     * @param order   byte order of the elements
     * @return the region
     * @throws IOException if mapping fails
     */
    public static ByteRegion map(FileChannel channel, long offset, long length, ByteOrder order) throws IOException {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative offset or length");
        }
        int count = (int) ((length + CHUNK_SIZE - 1) >>> CHUNK_SHIFT);
        ByteBuffer[] chunks = new ByteBuffer[count];
        try {
            for (int i = 0; i < count; i++) {
                long start = (long) i << CHUNK_SHIFT;
                long size = Math.min(CHUNK_SIZE, length - start);
                chunks[i] = channel.map(FileChannel.MapMode.READ_ONLY, offset + start, size).order(order);
            }
        } catch (IOException | RuntimeException e) {
            for (ByteBuffer b : chunks) {
                unmap(b);
            }
            throw e;
        }
        return new ByteRegion(chunks, length, true);
    }

    /** A region over a heap buffer's remaining bytes (at most 2 GiB), in the buffer's byte order. */
    public static ByteRegion wrap(ByteBuffer buffer) {
        ByteBuffer slice = buffer.slice().order(buffer.order());
        return new ByteRegion(new ByteBuffer[] {slice}, slice.remaining(), false);
    }

    /** A little-endian region holding the given floats (for small tensors built in memory). */
    public static ByteRegion ofFloats(float[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return wrap(buffer);
    }

    /** Number of bytes. */
    public long length() {
        return length;
    }

    private ByteBuffer chunk(long pos) {
        ByteBuffer[] c = chunks;
        if (c == null) {
            throw new IllegalStateException("byte region is closed");
        }
        return c[(int) (pos >>> CHUNK_SHIFT)];
    }

    /** The byte at {@code pos}. */
    public byte get(long pos) {
        return chunk(pos).get((int) (pos & CHUNK_MASK));
    }

    /** The 16-bit value at {@code pos}. */
    public short getShort(long pos) {
        return chunk(pos).getShort((int) (pos & CHUNK_MASK));
    }

    /** The 32-bit value at {@code pos}. */
    public int getInt(long pos) {
        return chunk(pos).getInt((int) (pos & CHUNK_MASK));
    }

    /** The 64-bit value at {@code pos}. */
    public long getLong(long pos) {
        return chunk(pos).getLong((int) (pos & CHUNK_MASK));
    }

    /** The float32 at {@code pos}. */
    public float getFloat(long pos) {
        return chunk(pos).getFloat((int) (pos & CHUNK_MASK));
    }

    /** The float64 at {@code pos}. */
    public double getDouble(long pos) {
        return chunk(pos).getDouble((int) (pos & CHUNK_MASK));
    }

    /** Copies {@code count} bytes from {@code pos} into a new array (for small records). */
    public byte[] bytes(long pos, int count) {
        if (pos < 0 || count < 0 || pos + count > length) {
            throw new IndexOutOfBoundsException("bytes " + pos + "+" + count + " outside a region of " + length);
        }
        byte[] out = new byte[count];
        for (int i = 0; i < count; i++) {
            out[i] = get(pos + i);
        }
        return out;
    }

    /** Unmaps the region now (a heap region is just dropped). Idempotent. */
    @Override
    public void close() {
        ByteBuffer[] c = chunks;
        chunks = null;
        if (c != null && mapped) {
            for (ByteBuffer b : c) {
                unmap(b);
            }
        }
    }

    private static final Object UNSAFE;
    private static final Method INVOKE_CLEANER;

    static {
        Object unsafe = null;
        Method cleaner = null;
        try {
            // sun.misc.Unsafe.invokeCleaner (jdk.unsupported, open in every JDK 9+) unmaps a direct
            // buffer at once. Without it mappings are released by the garbage collector.
            Class<?> type = Class.forName("sun.misc.Unsafe");
            Field field = type.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            unsafe = field.get(null);
            cleaner = type.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            unsafe = null;
            cleaner = null;
        }
        UNSAFE = unsafe;
        INVOKE_CLEANER = cleaner;
    }

    private static void unmap(ByteBuffer buffer) {
        if (buffer instanceof MappedByteBuffer && buffer.isDirect() && INVOKE_CLEANER != null) {
            try {
                INVOKE_CLEANER.invoke(UNSAFE, buffer);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // Left to the garbage collector.
            }
        }
    }
}
