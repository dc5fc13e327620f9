package org.jrwkv;

import java.util.Objects;
import java.util.regex.Pattern;

/** The checks {@link PromptFormat}'s formats share. */
final class PromptRules {

    static final Pattern NEWLINES = Pattern.compile("\n+");

    private PromptRules() {
    }

    static void check(String what, String name) {
        Objects.requireNonNull(name, what);
        if (name.isBlank() || !name.equals(name.strip()) || name.contains(":") || name.contains("\n")
                || name.contains("\r")) {
            throw new IllegalArgumentException(what + " name must be a non-empty word without ':', newlines or "
                    + "surrounding spaces, got \"" + name + "\"");
        }
    }

    static String nonEmpty(String content) {
        if (content.isEmpty()) {
            throw new IllegalArgumentException("content must not be empty (after removing surrounding whitespace)");
        }
        return content;
    }
}
