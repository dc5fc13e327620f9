package org.jrwkv.internal.text;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;

/**
 * The parsed RWKV World vocabulary file ({@code rwkv_vocab_v20230424.txt}): one token per line,
 * {@code <id> <literal> <length>}, the literal being Python's {@code repr()} of a {@code str} or
 * {@code bytes} (see {@link PythonLiteral}); the length, in bytes, is checked.
 *
 * <p>Every problem is reported with the source's name and the line number. Ids must be unique and
 * in {@code [1, MAX_ID]} (0 is the end-of-text token, which has no line). Empty lines are refused
 * except at the very end of the file.
 *
 * <p>Internal: not part of the public API.
 */
public final class WorldVocabulary {

    /** Largest id accepted (bounds the tables a hostile file can make us allocate). */
    public static final int MAX_ID = (1 << 20) - 1;

    /** Ids of the lines, in file order. */
    public final int[] ids;
    /** Bytes of each line's token, in file order. */
    public final byte[][] tokens;
    /** One more than the largest id. */
    public final int idLimit;

    private WorldVocabulary(int[] ids, byte[][] tokens, int idLimit) {
        this.ids = ids;
        this.tokens = tokens;
        this.idLimit = idLimit;
    }

    /**
     * Parses the whole content of a vocabulary file.
     *
     * @param content the file's bytes
     * @param source  names the file in messages
     * @throws IllegalArgumentException naming the source and line of the first problem
     */
    public static WorldVocabulary parse(byte[] content, String source) {
        int lines = 1;
        for (byte b : content) {
            if (b == '\n') {
                lines++;
            }
        }
        int[] ids = new int[lines];
        byte[][] tokens = new byte[lines][];
        int count = 0;
        int maxId = 0;
        BitSet seen = new BitSet();
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        int lineNo = 0;
        int start = 0;
        while (start < content.length) {
            int end = start;
            while (end < content.length && content[end] != '\n') {
                end++;
            }
            lineNo++;
            int lineStart = start;
            start = end + 1;
            if (end == lineStart) {
                if (end >= content.length - 1) {
                    break; // a final empty line
                }
                throw error(source, lineNo, "is empty");
            }
            if (content[end - 1] == '\r') {
                throw error(source, lineNo, "ends with \\r (the file must have \\n line ends)");
            }
            String line;
            try {
                line = decoder.decode(ByteBuffer.wrap(content, lineStart, end - lineStart)).toString();
            } catch (CharacterCodingException e) {
                throw error(source, lineNo, "is not valid UTF-8");
            }
            int firstSpace = line.indexOf(' ');
            int lastSpace = line.lastIndexOf(' ');
            if (firstSpace <= 0 || lastSpace <= firstSpace + 1) {
                throw error(source, lineNo, "is not '<id> <literal> <length>': " + shorten(line));
            }
            int id = number(line.substring(0, firstSpace), source, lineNo, "id");
            int length = number(line.substring(lastSpace + 1), source, lineNo, "length");
            if (id < 1 || id > MAX_ID) {
                throw error(source, lineNo, "id " + id + " is out of range [1, " + MAX_ID + "]");
            }
            if (seen.get(id)) {
                throw error(source, lineNo, "id " + id + " appears twice");
            }
            seen.set(id);
            byte[] bytes;
            try {
                bytes = PythonLiteral.parse(line.substring(firstSpace + 1, lastSpace));
            } catch (IllegalArgumentException e) {
                throw error(source, lineNo, e.getMessage());
            }
            if (bytes.length != length) {
                throw error(source, lineNo, "token " + id + " has " + bytes.length + " bytes but the line says "
                        + length);
            }
            if (bytes.length == 0) {
                throw error(source, lineNo, "token " + id + " is empty");
            }
            ids[count] = id;
            tokens[count] = bytes;
            count++;
            maxId = Math.max(maxId, id);
        }
        if (count == 0) {
            throw new IllegalArgumentException(source + " holds no tokens");
        }
        return new WorldVocabulary(Arrays.copyOf(ids, count), Arrays.copyOf(tokens, count), maxId + 1);
    }

    /** A non-negative decimal number of at most 9 digits. */
    private static int number(String text, String source, int line, String what) {
        if (text.isEmpty() || text.length() > 9) {
            throw error(source, line, what + " '" + shorten(text) + "' is not a number");
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                throw error(source, line, what + " '" + shorten(text) + "' is not a number");
            }
        }
        return Integer.parseInt(text);
    }

    private static String shorten(String text) {
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }

    private static IllegalArgumentException error(String source, int line, String message) {
        return new IllegalArgumentException(source + ", line " + line + ": " + message);
    }
}
