package org.jrwkv.internal.text;

import java.nio.charset.StandardCharsets;

/**
 * UTF-8 encoding that refuses lone surrogates instead of silently writing {@code ?} for them as
 * {@link String#getBytes} does (the reference tokenizers, in Python, raise an error too).
 *
 * <p>Internal: not part of the public API.
 */
public final class StrictUtf8 {

    private StrictUtf8() {
    }

    /**
     * The UTF-8 bytes of {@code text}.
     *
     * @throws IllegalArgumentException if {@code text} holds a lone surrogate
     */
    public static byte[] encode(String text) {
        checkSurrogates(text);
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Checks that every surrogate in {@code text} is part of a pair.
     *
     * @throws IllegalArgumentException naming the first lone surrogate and its index
     */
    public static void checkSurrogates(CharSequence text) {
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < Character.MIN_SURROGATE || c > Character.MAX_SURROGATE) {
                continue;
            }
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
                continue;
            }
            throw new IllegalArgumentException(String.format(
                    "text holds a lone surrogate U+%04X at index %d, which UTF-8 cannot encode", (int) c, i));
        }
    }
}
