package org.jrwkv.internal.text;

/**
 * GPT-2's pre-tokenizer, the regular expression
 * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}
 * (alternatives tried in order at each position, each greedy), written out as a scanner: linear,
 * no backtracking and no regex engine recursion on long runs.
 *
 * <p>Classes, as in the Rust {@code tokenizers} library (Oniguruma) and Java's
 * {@code UNICODE_CHARACTER_CLASS}: {@code \p{L}} the letters (Lu Ll Lt Lm Lo), {@code \p{N}} the
 * numbers (Nd Nl No), {@code \s} Unicode White_Space (tab to carriage return, U+0085 and the
 * Zs, Zl and Zp categories). The optional leading space is U+0020 only; contractions are
 * lowercase with an ASCII apostrophe.
 *
 * <p>The whitespace rule {@code \s+(?!\S)} takes a run of whitespace but, when a non-space
 * follows, leaves its last character, which then prefixes the next word; a single whitespace
 * character before a non-space falls to the last alternative {@code \s+}.
 *
 * <p>Internal: not part of the public API. Stateless.
 */
public final class GptPreTokenizer {

    /** Receives the pieces, as {@code [start, end)} char ranges of the text. */
    @FunctionalInterface
    public interface PieceConsumer {
        /** One piece. */
        void piece(int start, int end);
    }

    private static final int LETTER = 1;
    private static final int NUMBER = 2;
    private static final int SPACE = 3;
    private static final int OTHER = 4;

    private GptPreTokenizer() {
    }

    /** Splits {@code text[from, to)} into pieces, in order, covering every character. */
    public static void split(CharSequence text, int from, int to, PieceConsumer out) {
        int i = from;
        while (i < to) {
            int end = next(text, i, to);
            out.piece(i, end);
            i = end;
        }
    }

    /** The end of the piece that starts at {@code i}. */
    private static int next(CharSequence s, int i, int to) {
        char c = s.charAt(i);
        if (c == '\'') {
            int end = contraction(s, i, to);
            if (end > 0) {
                return end;
            }
        }
        int start = i;
        if (c == ' ' && i + 1 < to) {
            int nextClass = classOf(Character.codePointAt(s, i + 1));
            if (nextClass != SPACE) {
                return run(s, i + 1, to, nextClass);
            }
        }
        int cp = Character.codePointAt(s, start);
        int cls = classOf(cp);
        if (cls != SPACE) {
            return run(s, start, to, cls);
        }
        // Whitespace: \s+(?!\S), else \s+.
        int end = run(s, start, to, SPACE);
        if (end == to) {
            return end;
        }
        int last = Character.offsetByCodePoints(s, end, -1);
        return last > start ? last : end;
    }

    /** The end of the longest run of characters of class {@code cls} starting at {@code i}. */
    private static int run(CharSequence s, int i, int to, int cls) {
        while (i < to) {
            int cp = Character.codePointAt(s, i);
            if (classOf(cp) != cls) {
                break;
            }
            i += Character.charCount(cp);
        }
        return i;
    }

    private static int contraction(CharSequence s, int i, int to) {
        int left = to - i;
        if (left >= 2) {
            char a = s.charAt(i + 1);
            if (a == 's' || a == 't' || a == 'm' || a == 'd') {
                return i + 2;
            }
            if (left >= 3) {
                char b = s.charAt(i + 2);
                if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                    return i + 3;
                }
            }
        }
        return -1;
    }

    /** The class of a code point: letter, number, whitespace or other. */
    static int classOf(int cp) {
        if (cp < 0x80) {
            if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) {
                return LETTER;
            }
            if (cp >= '0' && cp <= '9') {
                return NUMBER;
            }
            if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D)) {
                return SPACE;
            }
            return OTHER;
        }
        int type = Character.getType(cp);
        switch (type) {
            case Character.UPPERCASE_LETTER:
            case Character.LOWERCASE_LETTER:
            case Character.TITLECASE_LETTER:
            case Character.MODIFIER_LETTER:
            case Character.OTHER_LETTER:
                return LETTER;
            case Character.DECIMAL_DIGIT_NUMBER:
            case Character.LETTER_NUMBER:
            case Character.OTHER_NUMBER:
                return NUMBER;
            case Character.SPACE_SEPARATOR:
            case Character.LINE_SEPARATOR:
            case Character.PARAGRAPH_SEPARATOR:
                return SPACE;
            default:
                return cp == 0x85 ? SPACE : OTHER;
        }
    }
}
