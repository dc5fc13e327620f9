package org.jrwkv.internal.text;

/**
 * An incremental UTF-8 decoder: bytes go in one at a time, complete characters come out at once,
 * and only an incomplete trailing sequence that can still become valid is held back (at most 3
 * bytes). Bytes that can never be part of a valid sequence become U+FFFD immediately, one per
 * maximal invalid subpart (the Unicode "best practice" that Python's {@code errors="replace"}
 * follows), so the concatenated output equals a whole-sequence decode with replacement.
 *
 * <p>Java's own decoder ({@code new String(bytes, UTF_8)}) differs from Python in one case: an
 * encoded surrogate {@code ED A0-BF ..} is one U+FFFD there but one per byte in Python (and
 * here), so whole-sequence decoding uses this class too ({@link #decode}).
 *
 * <p>Well-formed sequences (Unicode Table 3-7): {@code 00-7F}; {@code C2-DF 80-BF};
 * {@code E0 A0-BF 80-BF}; {@code E1-EC|EE-EF 80-BF 80-BF}; {@code ED 80-9F 80-BF};
 * {@code F0 90-BF 80-BF 80-BF}; {@code F1-F3 80-BF 80-BF 80-BF}; {@code F4 80-8F 80-BF 80-BF}.
 *
 * <p>Internal: not part of the public API. Not thread-safe.
 */
public final class Utf8Stream {

    private static final char REPLACEMENT = '\uFFFD';

    /** Continuation bytes still needed by the pending sequence (0: none pending). */
    private int needed;
    /** Code point bits gathered so far. */
    private int codePoint;
    /** Allowed range of the next continuation byte. */
    private int lower = 0x80;
    private int upper = 0xBF;

    /** Decodes a whole byte sequence with replacement (a held-back tail becomes U+FFFD). */
    public static String decode(byte[] bytes, int offset, int length) {
        int i = offset;
        int end = offset + length;
        while (i < end && bytes[i] >= 0) {
            i++;
        }
        if (i == end) {
            return new String(bytes, offset, length, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
        StringBuilder out = new StringBuilder(length);
        out.append(new String(bytes, offset, i - offset, java.nio.charset.StandardCharsets.ISO_8859_1));
        Utf8Stream stream = new Utf8Stream();
        stream.feed(bytes, i, end - i, out);
        stream.finish(out);
        return out.toString();
    }

    /** Decodes {@code bytes[offset, offset + length)}, appending complete characters to {@code out}. */
    public void feed(byte[] bytes, int offset, int length, StringBuilder out) {
        for (int i = offset, end = offset + length; i < end; i++) {
            feed(bytes[i] & 0xFF, out);
        }
    }

    /** Decodes one byte (0..255). */
    public void feed(int b, StringBuilder out) {
        if (needed > 0) {
            if (b >= lower && b <= upper) {
                codePoint = (codePoint << 6) | (b & 0x3F);
                lower = 0x80;
                upper = 0xBF;
                if (--needed == 0) {
                    out.appendCodePoint(codePoint);
                }
                return;
            }
            // The pending bytes are a maximal invalid subpart; this byte starts afresh.
            out.append(REPLACEMENT);
            needed = 0;
            lower = 0x80;
            upper = 0xBF;
        }
        if (b < 0x80) {
            out.append((char) b);
        } else if (b >= 0xC2 && b <= 0xDF) {
            start(1, b & 0x1F, 0x80, 0xBF);
        } else if (b == 0xE0) {
            start(2, b & 0x0F, 0xA0, 0xBF);
        } else if (b == 0xED) {
            start(2, b & 0x0F, 0x80, 0x9F);
        } else if (b >= 0xE1 && b <= 0xEF) {
            start(2, b & 0x0F, 0x80, 0xBF);
        } else if (b == 0xF0) {
            start(3, b & 0x07, 0x90, 0xBF);
        } else if (b >= 0xF1 && b <= 0xF3) {
            start(3, b & 0x07, 0x80, 0xBF);
        } else if (b == 0xF4) {
            start(3, b & 0x07, 0x80, 0x8F);
        } else {
            out.append(REPLACEMENT); // 80-C1, F5-FF never start a character
        }
    }

    private void start(int continuation, int bits, int low, int high) {
        needed = continuation;
        codePoint = bits;
        lower = low;
        upper = high;
    }

    /** Whether an incomplete sequence is held back. */
    public boolean hasPending() {
        return needed > 0;
    }

    /** Ends the stream: a held-back incomplete sequence becomes one U+FFFD. */
    public void finish(StringBuilder out) {
        if (needed > 0) {
            out.append(REPLACEMENT);
        }
        reset();
    }

    /** Forgets any held-back bytes. */
    public void reset() {
        needed = 0;
        lower = 0x80;
        upper = 0xBF;
    }
}
