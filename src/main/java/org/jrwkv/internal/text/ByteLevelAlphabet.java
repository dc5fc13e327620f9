package org.jrwkv.internal.text;

/**
 * GPT-2's byte ↔ character table ({@code bytes_to_unicode}), in which byte-level BPE
 * vocabularies are written: bytes {@code 21-7E}, {@code A1-AC} and {@code AE-FF} stand for the
 * character of the same code point; the other 68 bytes, in increasing order, for U+0100 to
 * U+0143 (so a space is {@code Ġ} U+0120 and a newline {@code Ċ} U+010A).
 *
 * <p>Internal: not part of the public API.
 */
public final class ByteLevelAlphabet {

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0x100;
        for (int b = 0; b < 256; b++) {
            boolean itself = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = itself ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    /** The character standing for byte {@code b} (0..255). */
    public static char charOf(int b) {
        return BYTE_TO_CHAR[b];
    }

    /** The byte a character stands for, or -1 if it is not in the alphabet. */
    public static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /**
     * The bytes a vocabulary string stands for.
     *
     * @throws IllegalArgumentException if a character is not in the alphabet
     */
    public static byte[] bytesOf(String token) {
        byte[] bytes = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) {
                throw new IllegalArgumentException(String.format("character U+%04X is not a byte-level character",
                        (int) token.charAt(i)));
            }
            bytes[i] = (byte) b;
        }
        return bytes;
    }
}
