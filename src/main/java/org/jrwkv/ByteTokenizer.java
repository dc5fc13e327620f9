package org.jrwkv;

import java.util.Objects;
import java.util.OptionalInt;
import org.jrwkv.internal.text.StrictUtf8;
import org.jrwkv.internal.text.Utf8Stream;

/**
 * The byte tokenizer of byte-level models (n_vocab 256, such as the tiny test models): token id =
 * byte value of the UTF-8 encoding. Id 0 is the NUL byte, not an end-of-text marker: these models
 * have none. Get it with {@link Tokenizer#bytes()}.
 */
public final class ByteTokenizer implements Tokenizer {

    static final ByteTokenizer INSTANCE = new ByteTokenizer();

    private static final byte[][] SINGLE = new byte[256][];

    static {
        for (int b = 0; b < 256; b++) {
            SINGLE[b] = new byte[] {(byte) b};
        }
    }

    private ByteTokenizer() {
    }

    @Override
    public Kind kind() {
        return Kind.BYTES;
    }

    /** 256. */
    @Override
    public int vocabSize() {
        return 256;
    }

    /** Empty: byte-level models have no end-of-text token. */
    @Override
    public OptionalInt endOfText() {
        return OptionalInt.empty();
    }

    @Override
    public int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        byte[] bytes = StrictUtf8.encode(text);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xFF;
        }
        return ids;
    }

    @Override
    public String decode(int[] ids, int from, int to) {
        Objects.checkFromToIndex(from, to, ids.length);
        byte[] bytes = new byte[to - from];
        for (int i = from; i < to; i++) {
            bytes[i - from] = (byte) check(ids[i]);
        }
        return Utf8Stream.decode(bytes, 0, bytes.length);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return new byte[] {(byte) check(id)};
    }

    /** The token's bytes, shared (never modified). */
    byte[] bytesView(int id) {
        return SINGLE[check(id)];
    }

    private static int check(int id) {
        if (id < 0 || id > 255) {
            throw new IllegalArgumentException("token id " + id + " is out of range [0, 256)");
        }
        return id;
    }

    @Override
    public String toString() {
        return "ByteTokenizer";
    }
}
