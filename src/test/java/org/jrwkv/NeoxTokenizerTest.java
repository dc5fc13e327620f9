package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jrwkv.internal.text.GptPreTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GPT-NeoX-20B tokenizer against the reference encodings, its pre-tokenizer, bad files. */
class NeoxTokenizerTest {

    /** GPT-2's pattern, as the spec gives it, for checking our scanner. */
    private static final Pattern GPT2 = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    @TempDir
    Path dir;

    @Test
    void matchesEveryReferenceCase() {
        NeoxTokenizer t = TokenizerData.neox();
        List<TokenizerData.Case> cases = TokenizerData.cases("neox-cases.jsonl");
        assertEquals(42, cases.size());
        for (TokenizerData.Case c : cases) {
            assertArrayEquals(c.ids(), t.encode(c.text()), c.toString());
            assertEquals(Normalizer.normalize(c.text(), Normalizer.Form.NFC), t.decode(c.ids()), c.toString());
        }
    }

    @Test
    void streamingDecodeCutAtEveryTokenReassemblesEveryCase() {
        NeoxTokenizer t = TokenizerData.neox();
        for (TokenizerData.Case c : TokenizerData.cases("neox-cases.jsonl")) {
            String expected = Normalizer.normalize(c.text(), Normalizer.Form.NFC);
            StreamingDecoder decoder = new StreamingDecoder(t);
            StringBuilder all = new StringBuilder();
            for (int k = 0; k < c.ids().length; k++) {
                String piece = decoder.accept(c.ids()[k]);
                WorldTokenizerTest.assertNoLoneSurrogate(piece);
                all.append(piece);
                assertTrue(expected.startsWith(all.toString()), c + " after token " + k);
            }
            all.append(decoder.flush());
            assertEquals(expected, all.toString(), c.toString());
        }
    }

    @Test
    void specExamples() {
        NeoxTokenizer t = TokenizerData.neox();
        assertEquals(Tokenizer.Kind.NEOX, t.kind());
        assertEquals(50277, t.vocabSize());
        assertEquals(0, t.endOfText().getAsInt());
        assertArrayEquals(new int[] {50254, 209}, t.encode(" ".repeat(25)));
        assertArrayEquals(new int[] {50254, 50272}, t.encode(" ".repeat(30)));
        assertArrayEquals(new int[] {68, 2320, 860}, t.encode("cafe\u0301"));
        assertArrayEquals(new int[] {535}, t.encode("\n\n"));
        assertArrayEquals(new int[] {187, 187}, t.encodePrompt("\n\n"));
        assertArrayEquals(new int[] {25521, 187, 187}, t.encodePrompt("hello\n\n"));
        assertArrayEquals(t.encode("a\n\nb"), t.encodePrompt("a\n\nb"));
        assertArrayEquals(new int[] {14931, 235, 211}, t.encode("😀"));
        assertEquals("<|endoftext|>", t.decode(new int[] {0}));
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {50277}));
        assertThrows(IllegalArgumentException.class, () -> t.encode("x\uD800"));
    }

    @Test
    void preTokenizerScannerAgreesWithTheRegex() {
        List<String> texts = new ArrayList<>();
        for (TokenizerData.Case c : TokenizerData.cases("neox-cases.jsonl")) {
            texts.add(c.text());
        }
        for (TokenizerData.Case c : TokenizerData.cases("world-cases.jsonl")) {
            texts.add(c.text());
        }
        // Random mixes of every class the pattern distinguishes.
        String[] atoms = {" ", "  ", "\n", "\t", "\u00A0", "\u3000", "\u2028", "\u0085", "\u200B", "a", "Z", "é", "ß",
            "你", "𝐀", "1", "٣", "Ⅻ", "½", "'", "'s", "'re", "'ll", "'S", "!", "?", ".", "-", "😀", "\u0301", "_", "\r\n"};
        Random random = new Random(11);
        for (int round = 0; round < 2000; round++) {
            StringBuilder s = new StringBuilder();
            for (int i = random.nextInt(14); i >= 0; i--) {
                s.append(atoms[random.nextInt(atoms.length)]);
            }
            texts.add(s.toString());
        }
        for (String text : texts) {
            List<String> expected = new ArrayList<>();
            Matcher m = GPT2.matcher(text);
            while (m.find()) {
                expected.add(m.group());
            }
            List<String> actual = new ArrayList<>();
            GptPreTokenizer.split(text, 0, text.length(), (s, e) -> actual.add(text.substring(s, e)));
            assertEquals(expected, actual, () -> "text: " + text.codePoints()
                    .mapToObj(cp -> String.format("U+%04X", cp)).toList());
        }
    }

    @Test
    void aHugeSinglePreTokenIsNotQuadratic() {
        NeoxTokenizer t = TokenizerData.neox();
        String letters = "abcdefghij".repeat(30_000); // one 300 000-letter pre-token
        int[] ids = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> t.encode(letters));
        assertEquals(letters, t.decode(ids));
        // The heap path merges like the scanning path: short pieces agree with a piecewise encode.
        assertArrayEquals(t.encode("abcdefghij".repeat(5)), t.encode("abcdefghij".repeat(5)));
        String digits = "1234567890".repeat(10); // 100 digits: past the scanning limit
        assertEquals(digits, t.decode(t.encode(digits)));
    }

    @Test
    void heapAndScanningMergesAgree() {
        NeoxTokenizer t = TokenizerData.neox();
        Random random = new Random(5);
        String alphabet = "etaoinshrdlu";
        for (int round = 0; round < 50; round++) {
            StringBuilder word = new StringBuilder();
            for (int i = 0; i < 40 + random.nextInt(60); i++) {
                word.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            // A long word goes through the heap; the same merges by brute force must agree.
            String w = word.toString();
            assertArrayEquals(bruteForceBpe(t, w), t.encode(w), w);
        }
    }

    /** BPE by the textbook loop over all pairs, through the public API only. */
    private static int[] bruteForceBpe(NeoxTokenizer t, String word) {
        // Ranks are recovered from the tokenizer file once.
        java.util.Map<String, Integer> ranks = TokenizerDataRanks.ranks();
        List<String> symbols = new ArrayList<>();
        for (byte b : word.getBytes(StandardCharsets.UTF_8)) {
            symbols.add(String.valueOf(org.jrwkv.internal.text.ByteLevelAlphabet.charOf(b & 0xFF)));
        }
        while (true) {
            int best = Integer.MAX_VALUE;
            int at = -1;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer r = ranks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (r != null && r < best) {
                    best = r;
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            symbols.set(at, symbols.get(at) + symbols.remove(at + 1));
        }
        java.util.Map<String, Integer> vocab = TokenizerDataRanks.vocab();
        return symbols.stream().mapToInt(vocab::get).toArray();
    }

    @Test
    void badFilesGiveClearMessages() throws IOException {
        expectError("{\"model\": ", "is not valid JSON (line 1");
        expectError("{}", "'model' must be a JSON object");
        expectError("[1, 2]", "is not a tokenizer file");
        expectError(file("\"type\": \"WordPiece\", \"vocab\": {}", "ByteLevel"), "unsupported tokenizer setting: model type WordPiece");
        expectError(file("\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b\"]", "ByteLevel"),
                "merge 0 ('a b') needs 'ab', which is not in model.vocab");
        expectError(file("\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []", "ByteLevel"),
                "gives id 0 to both");
        expectError(file("\"type\": \"BPE\", \"vocab\": {\"a\": -3}, \"merges\": []", "ByteLevel"),
                "model.vocab['a'] must be an id");
        expectError(file("\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"ab\"]", "ByteLevel"),
                "is not two symbols separated by one space");
        expectError(file("\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []", "Whitespace"),
                "unsupported tokenizer setting: pre_tokenizer Whitespace");
        // A minimal valid file works.
        Path ok = dir.resolve("ok.json");
        Files.writeString(ok, file("\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [\"a b\"]",
                "ByteLevel"));
        Tokenizer t = Tokenizer.load(ok);
        assertArrayEquals(new int[] {2, 0}, t.encode("aba"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.encode("c"));
        assertTrue(e.getMessage().contains("no symbol for the byte 0x63"), e.getMessage());
    }

    private static String file(String model, String preTokenizer) {
        return "{\"model\": {" + model + "}, \"pre_tokenizer\": {\"type\": \"" + preTokenizer
                + "\", \"add_prefix_space\": false}, \"added_tokens\": []}";
    }

    private void expectError(String content, String fragment) throws IOException {
        Path file = Files.createTempFile(dir, "tokenizer", ".json");
        Files.writeString(file, content);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(file), content);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }
}
