package org.jrwkv.internal.text;

import java.util.Objects;

/**
 * Decoding for tokenizers that keep each id's bytes in a table ({@code tokens[id]}, never
 * modified): the range check and the concatenation both table tokenizers need.
 */
public final class TokenTable {

    private TokenTable() {
    }

    /** The bytes of {@code id}, shared (callers must not modify them). */
    public static byte[] view(byte[][] tokens, int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id " + id + " is out of range [0, " + tokens.length + ")");
        }
        return tokens[id];
    }

    /** The text of {@code ids[from..to)}: their bytes joined, then decoded as UTF-8 (invalid bytes replaced). */
    public static String decode(byte[][] tokens, int[] ids, int from, int to) {
        Objects.checkFromToIndex(from, to, ids.length);
        int length = 0;
        for (int i = from; i < to; i++) {
            length += view(tokens, ids[i]).length;
        }
        byte[] bytes = new byte[length];
        int at = 0;
        for (int i = from; i < to; i++) {
            byte[] t = tokens[ids[i]];
            System.arraycopy(t, 0, bytes, at, t.length);
            at += t.length;
        }
        return Utf8Stream.decode(bytes, 0, bytes.length);
    }
}
