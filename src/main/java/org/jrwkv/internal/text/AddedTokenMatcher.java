package org.jrwkv.internal.text;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens (special tokens, GPT-NeoX's runs of spaces) in a text, leftmost-longest:
 * scanning from the left, at each position the longest added token that starts there wins; text
 * between matches is passed on unchanged.
 *
 * <p>Internal: not part of the public API. Immutable and thread-safe.
 */
public final class AddedTokenMatcher {

    /** Receives text segments and matched tokens, in order. */
    public interface Consumer {
        /** Plain text {@code text[start, end)} (never empty). */
        void text(int start, int end);

        /** An added token. */
        void token(int id);
    }

    private record Entry(String content, int id) {
    }

    /** Candidates by first char, longest first. */
    private final Map<Character, Entry[]> byFirstChar;
    private final boolean[] isFirstAscii = new boolean[128];

    /** A matcher for the given contents and ids (contents must not be empty). */
    public AddedTokenMatcher(List<String> contents, List<Integer> ids) {
        Map<Character, List<Entry>> lists = new HashMap<>();
        for (int i = 0; i < contents.size(); i++) {
            String content = contents.get(i);
            if (content.isEmpty()) {
                throw new IllegalArgumentException("added token " + ids.get(i) + " has empty content");
            }
            lists.computeIfAbsent(content.charAt(0), k -> new ArrayList<>()).add(new Entry(content, ids.get(i)));
            if (content.charAt(0) < 128) {
                isFirstAscii[content.charAt(0)] = true;
            }
        }
        byFirstChar = new HashMap<>();
        for (Map.Entry<Character, List<Entry>> e : lists.entrySet()) {
            List<Entry> list = e.getValue();
            list.sort(Comparator.comparingInt((Entry x) -> -x.content().length()));
            byFirstChar.put(e.getKey(), list.toArray(new Entry[0]));
        }
    }

    /** Whether there is no added token at all. */
    public boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    /** Splits {@code text} into plain segments and added tokens. */
    public void split(String text, Consumer out) {
        int segmentStart = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            Entry match = null;
            if (c < 128 ? isFirstAscii[c] : byFirstChar.containsKey(c)) {
                for (Entry e : byFirstChar.get(c)) {
                    if (text.startsWith(e.content(), i)) {
                        match = e;
                        break;
                    }
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            if (segmentStart < i) {
                out.text(segmentStart, i);
            }
            out.token(match.id());
            i += match.content().length();
            segmentStart = i;
        }
        if (segmentStart < n) {
            out.text(segmentStart, n);
        }
    }
}
