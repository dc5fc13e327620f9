package org.jrwkv;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A test-side reader and writer of rwkv.cpp model files (file-format.md §2-4), for making
 * corrupt variants of the real tiny files. Only FP32/FP16/Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 records.
 */
final class ModelFile {

    static final int HEADER_BYTES = 24;

    /** One tensor record and where its parts are in the file. */
    record Record(long start, int nDims, int keyLength, int type, int[] ne, String name, long dataStart, long dataEnd) {
        long end() {
            return dataEnd;
        }

        /** Offset of field {@code ne[i]} in the file. */
        long neOffset(int i) {
            return start + 12 + 4L * i;
        }
    }

    final byte[] bytes;
    final List<Record> records;

    private ModelFile(byte[] bytes, List<Record> records) {
        this.bytes = bytes;
        this.records = records;
    }

    static ModelFile read(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            List<Record> records = new ArrayList<>();
            long pos = HEADER_BYTES;
            while (pos < bytes.length) {
                int p = (int) pos;
                int nDims = bb.getInt(p);
                int keyLength = bb.getInt(p + 4);
                int type = bb.getInt(p + 8);
                int[] ne = new int[nDims];
                long elements = 1;
                for (int i = 0; i < nDims; i++) {
                    ne[i] = bb.getInt(p + 12 + 4 * i);
                    elements *= ne[i];
                }
                int nameStart = p + 12 + 4 * nDims;
                String name = new String(bytes, nameStart, keyLength, StandardCharsets.UTF_8);
                long dataStart = nameStart + keyLength;
                long dataEnd = dataStart + dataBytes(type, elements);
                records.add(new Record(pos, nDims, keyLength, type, ne, name, dataStart, dataEnd));
                pos = dataEnd;
            }
            if (pos != bytes.length) {
                throw new IllegalStateException(file + " does not end at a record boundary");
            }
            return new ModelFile(bytes, List.copyOf(records));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long dataBytes(int type, long elements) {
        DataType t = DataType.fromCode(type);
        return elements / t.blockElements() * t.blockBytes();
    }

    Record record(String name) {
        return records.stream().filter(r -> r.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no record " + name));
    }

    /** A copy of the file's bytes with a little-endian u32 replaced. */
    byte[] withU32(long offset, int value) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt((int) offset, value);
        return copy;
    }

    /** The bytes of one record. */
    byte[] recordBytes(Record r) {
        byte[] out = new byte[(int) (r.end() - r.start())];
        System.arraycopy(bytes, (int) r.start(), out, 0, out.length);
        return out;
    }

    /** The file without the given record. */
    byte[] without(Record r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length);
        out.write(bytes, 0, (int) r.start());
        out.write(bytes, (int) r.end(), bytes.length - (int) r.end());
        return out.toByteArray();
    }

    /** The file with extra bytes appended (e.g. a duplicate record). */
    byte[] append(byte[] extra) {
        byte[] out = new byte[bytes.length + extra.length];
        System.arraycopy(bytes, 0, out, 0, bytes.length);
        System.arraycopy(extra, 0, out, bytes.length, extra.length);
        return out;
    }

    /** The file with one record's header rewritten to {@code newDims} dimensions (same data). */
    byte[] withDims(Record r, int[] newNe) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length + 8);
        out.write(bytes, 0, (int) r.start());
        ByteBuffer head = ByteBuffer.allocate(12 + 4 * newNe.length).order(ByteOrder.LITTLE_ENDIAN);
        head.putInt(newNe.length).putInt(r.keyLength()).putInt(r.type());
        for (int n : newNe) {
            head.putInt(n);
        }
        out.write(head.array(), 0, head.capacity());
        int nameStart = (int) (r.start() + 12 + 4L * r.nDims());
        out.write(bytes, nameStart, bytes.length - nameStart);
        return out.toByteArray();
    }
}
