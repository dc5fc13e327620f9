package org.jrwkv.internal.text;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads the token literals of the RWKV World vocabulary: Python's {@code repr()} of a {@code str}
 * ({@code 'abc'}, {@code "it's"}) or of a {@code bytes} value ({@code b'\x82\xac'}).
 *
 * <p>Escapes accepted: {@code \\ \' \" \n \r \t \xHH} and, in a {@code str} only, {@code &#92;uHHHH}.
 * In a {@code str}, {@code \xHH} is the code point U+00HH (encoded to UTF-8 like every other
 * character); in {@code bytes} it is the raw byte. Anything else is refused with a message that
 * says what was found, so that a damaged file is never read silently.
 *
 * <p>Internal: not part of the public API.
 */
public final class PythonLiteral {

    private PythonLiteral() {
    }

    /**
     * The bytes a literal stands for (UTF-8 for a {@code str}).
     *
     * @throws IllegalArgumentException with a description of the first problem
     */
    public static byte[] parse(String literal) {
        boolean bytes = literal.startsWith("b");
        int start = bytes ? 1 : 0;
        if (literal.length() < start + 2) {
            throw new IllegalArgumentException("literal " + shorten(literal) + " is too short");
        }
        char quote = literal.charAt(start);
        if (quote != '\'' && quote != '"') {
            throw new IllegalArgumentException("literal " + shorten(literal) + " does not start with a quote");
        }
        if (literal.charAt(literal.length() - 1) != quote) {
            throw new IllegalArgumentException("literal " + shorten(literal) + " does not end with " + quote);
        }
        int end = literal.length() - 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream(end - start);
        StringBuilder text = bytes ? null : new StringBuilder(end - start);
        for (int i = start + 1; i < end; i++) {
            char c = literal.charAt(i);
            if (c == quote) {
                throw new IllegalArgumentException("literal " + shorten(literal) + " has an unescaped " + quote
                        + " inside");
            }
            if (c != '\\') {
                if (bytes) {
                    if (c < 0x20 || c > 0x7E) {
                        throw new IllegalArgumentException("bytes literal " + shorten(literal)
                                + " holds a character that is not printable ASCII (U+"
                                + String.format("%04X", (int) c) + ")");
                    }
                    out.write(c);
                } else {
                    text.append(c);
                }
                continue;
            }
            if (i + 1 >= end) {
                throw new IllegalArgumentException("literal " + shorten(literal) + " ends with a lone backslash");
            }
            char e = literal.charAt(++i);
            int value;
            switch (e) {
                case '\\':
                case '\'':
                case '"':
                    value = e;
                    break;
                case 'n':
                    value = '\n';
                    break;
                case 'r':
                    value = '\r';
                    break;
                case 't':
                    value = '\t';
                    break;
                case 'x':
                    value = hex(literal, i + 1, 2, end);
                    i += 2;
                    break;
                case 'u':
                    if (bytes) {
                        throw new IllegalArgumentException("bytes literal " + shorten(literal) + " has a \\u escape");
                    }
                    value = hex(literal, i + 1, 4, end);
                    i += 4;
                    break;
                default:
                    throw new IllegalArgumentException("literal " + shorten(literal) + " has an unsupported escape \\"
                            + e);
            }
            if (bytes) {
                out.write(value);
            } else {
                text.append((char) value);
            }
        }
        if (bytes) {
            return out.toByteArray();
        }
        return utf8(text, literal);
    }

    private static byte[] utf8(CharSequence text, String literal) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException("literal " + shorten(literal)
                        + " holds a lone surrogate, which UTF-8 cannot encode");
            }
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static int hex(String literal, int from, int digits, int end) {
        if (from + digits > end) {
            throw new IllegalArgumentException("literal " + shorten(literal) + " has a truncated escape");
        }
        int value = 0;
        for (int i = from; i < from + digits; i++) {
            int d = Character.digit(literal.charAt(i), 16);
            if (d < 0) {
                throw new IllegalArgumentException("literal " + shorten(literal) + " has a bad hex digit '"
                        + literal.charAt(i) + "' in an escape");
            }
            value = value * 16 + d;
        }
        return value;
    }

    private static String shorten(String literal) {
        return literal.length() <= 40 ? literal : literal.substring(0, 37) + "...";
    }
}
