package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The World tokenizer against the reference encodings and on damaged vocabularies. */
class WorldTokenizerTest {

    @TempDir
    Path dir;

    @Test
    void matchesEveryReferenceCase() {
        WorldTokenizer t = TokenizerData.world();
        List<TokenizerData.Case> cases = TokenizerData.cases("world-cases.jsonl");
        assertEquals(71, cases.size());
        for (TokenizerData.Case c : cases) {
            assertArrayEquals(c.ids(), t.encode(c.text()), c.toString());
            assertEquals(c.text(), t.decode(c.ids()), c.toString());
        }
    }

    @Test
    void streamingDecodeCutAtEveryTokenReassemblesEveryCase() {
        WorldTokenizer t = TokenizerData.world();
        for (TokenizerData.Case c : TokenizerData.cases("world-cases.jsonl")) {
            // Cut after every token k: pieces up to k, then the rest, give the text back, and no
            // piece ever holds a broken character.
            StreamingDecoder decoder = new StreamingDecoder(t);
            StringBuilder all = new StringBuilder();
            for (int k = 0; k < c.ids().length; k++) {
                String piece = decoder.accept(c.ids()[k]);
                assertFalse(piece.contains("\uFFFD") && !c.text().contains("\uFFFD"), c + " token " + k);
                assertNoLoneSurrogate(piece);
                all.append(piece);
                // Everything emitted so far is a prefix of the text.
                assertTrue(c.text().startsWith(all.toString()), c + " after token " + k);
            }
            all.append(decoder.flush());
            assertEquals(c.text(), all.toString(), c.toString());
        }
    }

    @Test
    void streamCasesGiveTheIncrementalChunks() {
        WorldTokenizer t = TokenizerData.world();
        List<JsonNode> cases = TokenizerData.jsonLines("world-stream-cases.jsonl");
        assertEquals(10, cases.size());
        for (JsonNode c : cases) {
            int[] ids = TokenizerData.ints(c.get("ids"));
            StreamingDecoder decoder = new StreamingDecoder(t);
            for (int i = 0; i < ids.length; i++) {
                assertArrayEquals(HexFormat.of().parseHex(c.get("token_bytes_hex").get(i).asText()), t.tokenBytes(ids[i]));
                assertEquals(c.get("incremental_chunks").get(i).asText(), decoder.accept(ids[i]), c + " token " + i);
            }
            String flush = decoder.flush();
            if (c.has("final_flush")) {
                assertEquals(c.get("final_flush").asText(), flush);
                assertEquals(c.get("decode_replace").asText(), t.decode(ids));
                assertEquals("\uFFFDA\uFFFDB", t.decode(ids));
            } else {
                assertEquals("", flush);
                assertEquals(c.get("text").asText(), t.decode(ids));
                assertArrayEquals(ids, t.encode(c.get("text").asText()));
            }
        }
    }

    @Test
    void specExamplesAndFacts() {
        WorldTokenizer t = TokenizerData.world();
        assertEquals(Tokenizer.Kind.WORLD, t.kind());
        assertEquals(65530, t.vocabSize());
        assertEquals(0, t.endOfText().getAsInt());
        assertEquals("", t.decode(new int[] {0}));
        assertEquals(0, t.tokenBytes(0).length);
        for (int b = 0; b < 256; b++) {
            assertArrayEquals(new byte[] {(byte) b}, t.tokenBytes(b + 1));
        }
        assertArrayEquals(new int[] {33155}, t.encode("Hello"));
        assertArrayEquals(new int[] {11}, t.encode("\n"));
        assertArrayEquals(new int[] {261}, t.encode("\n\n"));
        assertArrayEquals(new int[] {24281, 59, 4571, 261, 5585, 41693, 59}, t.encode("User: hi\n\nAssistant:"));
        assertArrayEquals(new int[] {65529, 267}, t.encode(" ".repeat(130)));
        assertArrayEquals(new int[] {58683}, t.encode(" Assistant"));
        assertArrayEquals(new int[0], t.encode(""));
        // <|endoftext|> in a text is ordinary bytes, never id 0.
        int[] eot = t.encode("<|endoftext|>");
        assertTrue(eot.length > 1);
        for (int id : eot) {
            assertTrue(id > 0);
        }
        // Raw bytes, even invalid UTF-8, have tokens.
        assertArrayEquals(new int[] {256, 66}, t.encode(new byte[] {(byte) 0xFF, 'A'}));
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {65530}));
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {-1}));
    }

    @Test
    void loneSurrogatesAreRefused() {
        WorldTokenizer t = TokenizerData.world();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.encode("ab\uD83D"));
        assertTrue(e.getMessage().contains("lone surrogate U+D83D at index 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.encode("\uDE00x"));
        assertArrayEquals(t.encode("\uD83D\uDE00"), t.encode("😀")); // a pair is fine
    }

    @Test
    void randomTextRoundTripsAndMatchesANaiveGreedyMatcher() {
        WorldTokenizer t = TokenizerData.world();
        Random random = new Random(7);
        String alphabet = "aeiou tnrshl.,\n\n你好世界😀ÿ\t0123456789";
        for (int round = 0; round < 200; round++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(60);
            for (int i = 0; i < length; i++) {
                text.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0,
                        random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            }
            String s = text.toString();
            int[] ids = t.encode(s);
            assertEquals(s, t.decode(ids));
            assertArrayEquals(naiveGreedy(t, s.getBytes(StandardCharsets.UTF_8)), ids, s);
        }
    }

    private static java.util.Map<String, Integer> byBytes;

    /** Greedy longest match by trying every length from 128 down: slow but obviously right. */
    private static int[] naiveGreedy(WorldTokenizer t, byte[] bytes) {
        if (byBytes == null) {
            byBytes = new java.util.HashMap<>();
            for (int id = 1; id < t.vocabSize(); id++) {
                byBytes.put(HexFormat.of().formatHex(t.tokenBytes(id)), id);
            }
        }
        java.util.List<Integer> out = new java.util.ArrayList<>();
        int pos = 0;
        while (pos < bytes.length) {
            for (int len = Math.min(128, bytes.length - pos); len > 0; len--) {
                Integer id = byBytes.get(HexFormat.of().formatHex(bytes, pos, pos + len));
                if (id != null) {
                    out.add(id);
                    pos += len;
                    break;
                }
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void damagedVocabulariesGiveMessagesWithTheLine() throws IOException {
        String good = "1 'a' 1\n2 b'\\xff' 1\n3 'ab' 2\n";
        WorldTokenizer small = WorldTokenizer.load(write(good));
        assertArrayEquals(new int[] {3, 1, 2}, small.encode(new byte[] {'a', 'b', 'a', (byte) 0xFF}));
        assertEquals(4, small.vocabSize());
        // A text with a byte that has no token.
        IllegalArgumentException noToken = assertThrows(IllegalArgumentException.class, () -> small.encode("c"));
        assertTrue(noToken.getMessage().contains("0x63"), noToken.getMessage());

        expectError("1 'a' 2\n", "line 1: token 1 has 1 bytes but the line says 2");
        expectError("1 'a' 1\n1 'b' 1\n", "line 2: id 1 appears twice");
        expectError("1 'a' 1\n2 'a' 1\n", "tokens 1 and 2 have the same bytes");
        expectError("x 'a' 1\n", "line 1: id 'x' is not a number");
        expectError("1 'a' one\n", "line 1: length 'one' is not a number");
        expectError("0 'a' 1\n", "line 1: id 0 is out of range");
        expectError("99999999 'a' 1\n", "id 99999999 is out of range");
        expectError("1 'a\n", "line 1: is not '<id> <literal> <length>'");
        expectError("1 'a 1\n", "does not end with '");
        expectError("1 abc 3\n", "does not start with a quote");
        expectError("1 '\\q' 1\n", "unsupported escape \\q");
        expectError("1 '\\xZZ' 1\n", "bad hex digit");
        expectError("1 '\\x4' 1\n", "truncated escape");
        expectError("1 b'\\u0041' 1\n", "bytes literal b'\\u0041' has a \\u escape");
        expectError("1 'a'b' 3\n", "unescaped '");
        expectError("1 '\\ud800' 3\n", "lone surrogate");
        expectError("1 '' 0\n", "token 1 is empty");
        expectError("1 'a' 1\n\n2 'b' 1\n", "line 2: is empty");
        expectError("1 'a' 1\r\n", "line 1: ends with \\r");
        expectError("", "holds no tokens");
        expectError("\n", "holds no tokens");
        Path binary = dir.resolve("binary.txt");
        Files.write(binary, new byte[] {'1', ' ', '\'', (byte) 0xC3, '\'', ' ', '1', '\n'});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorldTokenizer.load(binary));
        assertTrue(e.getMessage().contains(binary + ", line 1: is not valid UTF-8"), e.getMessage());
    }

    private Path write(String content) throws IOException {
        Path file = Files.createTempFile(dir, "vocab", ".txt");
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file;
    }

    private void expectError(String content, String fragment) throws IOException {
        Path file = write(content);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorldTokenizer.load(file),
                content);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        // The same through a stream, named by the caller.
        IllegalArgumentException s = assertThrows(IllegalArgumentException.class,
                () -> WorldTokenizer.load(new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)),
                        "vocab.txt"));
        assertTrue(s.getMessage().contains("vocab.txt"), s.getMessage());
    }

    static void assertNoLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                assertTrue(i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)), "lone high surrogate");
                i++;
            } else {
                assertFalse(Character.isLowSurrogate(c), "lone low surrogate");
            }
        }
    }
}
