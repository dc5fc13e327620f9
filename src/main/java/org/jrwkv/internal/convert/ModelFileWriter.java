package org.jrwkv.internal.convert;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.function.LongConsumer;
import org.jrwkv.internal.tensor.Fp16;
import org.jrwkv.internal.tensor.TensorView;

/**
 * Writes a planned conversion as an rwkv.cpp model file (file-format.md sections 2-3): the
 * 24-byte header (version 101), then one record per tensor with its dims reversed and its elements
 * in row-major order of the converted shape, float32 or float16, little-endian.
 *
 * <p>Elements stream from the mapped checkpoint through a fixed float buffer into a 4 MiB direct
 * byte buffer, so memory use does not grow with the model.
 *
 * <p>Internal: not part of the public API.
 */
public final class ModelFileWriter {

    /** Header size in bytes. */
    public static final int HEADER_BYTES = 24;
    /** {@code "ggmf"}. */
    public static final int MAGIC = 0x67676d66;
    /** The version the current converter writes. */
    public static final int VERSION = 101;

    private static final int CHUNK = 1 << 16;

    private final FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(4 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private final float[] floats = new float[CHUNK];
    private final short[] halves = new short[CHUNK];
    private final LongConsumer progress;
    private long written;

    /**
     * Creates a writer.
     *
     * @param channel  an empty file
     * @param progress receives the bytes written so far, now and then
     */
    public ModelFileWriter(FileChannel channel, LongConsumer progress) {
        this.channel = channel;
        this.progress = progress;
    }

    /** Writes the whole file. */
    public void write(ConversionPlan plan) throws IOException {
        buffer.putInt(MAGIC).putInt(VERSION).putInt(plan.vocabSize()).putInt(plan.embeddingSize())
                .putInt(plan.layerCount()).putInt(plan.fp16() ? 1 : 0);
        for (OutputTensor t : plan.tensors()) {
            writeRecord(t);
        }
        flush();
        progress.accept(written);
    }

    private void writeRecord(OutputTensor t) throws IOException {
        byte[] name = t.name.getBytes(StandardCharsets.UTF_8);
        room(12 + 4 * t.shape.length);
        buffer.putInt(t.shape.length).putInt(name.length).putInt(t.fp16 ? 1 : 0);
        for (int k = t.shape.length - 1; k >= 0; k--) {
            buffer.putInt(Math.toIntExact(t.shape[k]));
        }
        for (int i = 0; i < name.length; i += buffer.capacity()) {
            int n = Math.min(buffer.capacity(), name.length - i);
            room(n);
            buffer.put(name, i, n);
        }
        t.withView(view -> writeData(view, t));
    }

    private void writeData(TensorView view, OutputTensor t) throws IOException {
        long numel = view.numel();
        for (long first = 0; first < numel; first += CHUNK) {
            int n = (int) Math.min(CHUNK, numel - first);
            view.readFloats(first, n, floats, 0);
            t.op.apply(floats, n);
            if (t.fp16) {
                for (int i = 0; i < n; i++) {
                    halves[i] = Fp16.fromFloat(floats[i]);
                }
                room(2 * n);
                buffer.asShortBuffer().put(halves, 0, n);
                buffer.position(buffer.position() + 2 * n);
            } else {
                room(4 * n);
                buffer.asFloatBuffer().put(floats, 0, n);
                buffer.position(buffer.position() + 4 * n);
            }
        }
    }

    /** Makes room for {@code n} bytes (at most the buffer's capacity). */
    private void room(int n) throws IOException {
        if (buffer.remaining() < n) {
            flush();
        }
    }

    private void flush() throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            written += channel.write(buffer);
        }
        buffer.clear();
        progress.accept(written);
    }
}
