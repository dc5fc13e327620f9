package org.jrwkv.convert;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes small torch-style zip checkpoints for tests: a protocol-2 {@code data.pkl} with
 * {@code _rebuild_tensor_v2} records and one {@code data/<key>} record per tensor, stored
 * uncompressed. Structure as torch writes it, but local headers carry sizes (Java's zip writer),
 * which a central-directory reader handles the same way.
 */
public final class PthWriter {

    /** One tensor: name, storage class, shape and raw little-endian bytes. */
    public record Tensor(String name, String storageClass, long[] shape, byte[] data) {
        /** A float32 tensor. */
        public static Tensor f32(String name, long[] shape, float[] values) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            return new Tensor(name, "FloatStorage", shape, b.array());
        }
    }

    private final List<Tensor> tensors = new ArrayList<>();
    private byte[] rawPickle;

    /** Adds a tensor (in order). */
    public PthWriter add(Tensor t) {
        tensors.add(t);
        return this;
    }

    /** Uses these bytes as data.pkl instead of the generated pickle. */
    public PthWriter rawPickle(byte[] pickle) {
        this.rawPickle = pickle;
        return this;
    }

    /** Writes the archive. */
    public void write(Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            write(out, file.getFileName().toString().replaceFirst("\\.[^.]*$", ""));
        }
    }

    /** Writes the archive with the given top folder. */
    public void write(OutputStream stream, String folder) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(stream);
        zip.setMethod(ZipOutputStream.STORED);
        stored(zip, folder + "/data.pkl", rawPickle != null ? rawPickle : pickle());
        stored(zip, folder + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < tensors.size(); i++) {
            stored(zip, folder + "/data/" + i, tensors.get(i).data());
        }
        stored(zip, folder + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        zip.finish();
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    private static int elementSize(String storageClass) {
        switch (storageClass) {
            case "HalfStorage":
            case "BFloat16Storage":
                return 2;
            case "DoubleStorage":
            case "LongStorage":
                return 8;
            default:
                return 4;
        }
    }

    /** The pickle: {@code {name: _rebuild_tensor_v2((storage, cls, key, 'cpu', numel), 0, shape, stride, False, OrderedDict()), ...}}. */
    public byte[] pickle() {
        Pickle p = new Pickle();
        p.op(0x80).op(2).op('}').op('(');
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            long numel = t.data().length / elementSize(t.storageClass());
            p.str(t.name());
            p.global("torch._utils", "_rebuild_tensor_v2");
            p.op('(');
            p.op('(').str("storage").global("torch", t.storageClass()).str(Integer.toString(i)).str("cpu").integer(numel)
                    .op('t').op('Q');
            p.integer(0);
            p.op('(');
            for (long d : t.shape()) {
                p.integer(d);
            }
            p.op('t');
            p.op('(');
            long step = 1;
            long[] strides = new long[t.shape().length];
            for (int k = strides.length - 1; k >= 0; k--) {
                strides[k] = step;
                step *= Math.max(1, t.shape()[k]);
            }
            for (long s : strides) {
                p.integer(s);
            }
            p.op('t');
            p.op(0x89);
            p.global("collections", "OrderedDict").op(')').op('R');
            p.op('t').op('R');
        }
        p.op('u').op('.');
        return p.bytes();
    }

    /** A tiny pickle assembler. */
    public static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        /** One raw byte. */
        public Pickle op(int b) {
            out.write(b);
            return this;
        }

        /** BINUNICODE. */
        public Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            le32(b.length);
            out.writeBytes(b);
            return this;
        }

        /** GLOBAL. */
        public Pickle global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        /** BININT or LONG1. */
        public Pickle integer(long v) {
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
                op('J');
                le32((int) v);
            } else {
                op(0x8A).op(8);
                for (int i = 0; i < 8; i++) {
                    out.write((int) (v >>> (8 * i)));
                }
            }
            return this;
        }

        private void le32(int v) {
            for (int i = 0; i < 4; i++) {
                out.write(v >>> (8 * i));
            }
        }

        /** The stream so far. */
        public byte[] bytes() {
            return out.toByteArray();
        }
    }
}
