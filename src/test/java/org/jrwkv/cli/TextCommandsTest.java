package org.jrwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jrwkv.ChatSession;
import org.jrwkv.GenerationResult;
import org.jrwkv.Generator;
import org.jrwkv.ModelOptions;
import org.jrwkv.Prompt;
import org.jrwkv.PromptFormat;
import org.jrwkv.RwkvModel;
import org.jrwkv.SamplerSettings;
import org.jrwkv.TestData;
import org.jrwkv.Tokenizer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tokenize}, {@code generate} and {@code chat} in-process. */
class TextCommandsTest {

    @TempDir
    Path dir;

    private static String vocab() {
        return TestData.dir().resolve("tokenizers/rwkv_vocab_v20230424.txt").toString();
    }

    private static String neox() {
        return TestData.dir().resolve("tokenizers/20B_tokenizer.json").toString();
    }

    private static String tiny() {
        return TestData.tiny("7v0-834K", "FP32").toString();
    }

    @AfterEach
    void restoreStdin() {
        TokenizeCommand.stdin = System.in;
        ChatConsole.stdin = System.in;
    }

    private static InputStream utf8(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void tokenizeEncodesAndDecodes() {
        CliTest.Run r = CliTest.run("tokenize", "--tokenizer", vocab(), "Hello, world!");
        assertEquals(0, r.code(), r.err());
        assertEquals("[33155, 45, 40213, 34]\n", r.out());
        TokenizeCommand.stdin = utf8("User: hi\n\nAssistant:");
        assertEquals("[24281, 59, 4571, 261, 5585, 41693, 59]\n",
                CliTest.run("tokenize", "--tokenizer", vocab(), "-").out());
        assertEquals("User: hi\n\nAssistant:\n",
                CliTest.run("tokenize", "--tokenizer", vocab(), "--decode", "[24281, 59, 4571, 261, 5585, 41693, 59]")
                        .out());
        TokenizeCommand.stdin = utf8("[33155]\n");
        assertEquals("Hello\n", CliTest.run("tokenize", "--tokenizer", vocab(), "--decode", "-").out());
        // GPT-NeoX detected from the file, bytes by name.
        assertEquals("[6989, 27, 14260, 187, 187, 6717, 5567, 27]\n",
                CliTest.run("tokenize", "--tokenizer", neox(), "User: hi\n\nAssistant:").out());
        assertEquals("[105, 110]\n", CliTest.run("tokenize", "--tokenizer", "bytes", "in").out());
        assertEquals("[]\n", CliTest.run("tokenize", "--tokenizer", "bytes", "").out());
        assertEquals("你\n", CliTest.run("tokenize", "--tokenizer", "bytes", "--decode", "[228, 189, 160]").out());
    }

    @Test
    void tokenizeErrors() {
        CliTest.run("tokenize", "--tokenizer", vocab()).assertOneErrorLine(1, "give the text as an argument, or '-'");
        CliTest.run("tokenize", "--tokenizer", vocab(), "--decode", "[1, \"x\"]")
                .assertOneErrorLine(1, "element 1 is not a token id");
        CliTest.run("tokenize", "--tokenizer", vocab(), "--decode", "{")
                .assertOneErrorLine(1, "--decode expects a JSON array of token ids");
        CliTest.run("tokenize", "--tokenizer", vocab(), "--decode", "[99999]")
                .assertOneErrorLine(1, "token id 99999 is out of range [0, 65530)");
        CliTest.run("tokenize", "--tokenizer", dir.resolve("missing.txt").toString(), "x")
                .assertOneErrorLine(1, "no such file");
        CliTest.run("tokenize", "--tokenizer", tiny(), "x").assertOneErrorLine(1, "is not a tokenizer file");
        TokenizeCommand.stdin = new ByteArrayInputStream(new byte[] {(byte) 0xFF});
        CliTest.run("tokenize", "--tokenizer", "bytes", "-").assertOneErrorLine(1, "standard input is not valid UTF-8");
        CliTest.run("tokenize", "x").assertOneErrorLine(2, "--tokenizer");
    }

    @Test
    void generateStreamsWhatTheApiGenerates() {
        SamplerSettings settings = SamplerSettings.defaults().withSeed(5).withMaxTokens(30).withTopP(0.5);
        String expected;
        try (RwkvModel m = RwkvModel.load(Path.of(tiny()), new ModelOptions(1, 0));
                Generator g = new Generator(m, Tokenizer.bytes(), settings)) {
            expected = g.generate(PromptFormat.questionAnswer().prompt("Where is the cat?")).text();
        }
        CliTest.Run r = CliTest.run("generate", "--model", tiny(), "--prompt", "Where is the cat?", "--format", "qa",
                "--seed", "5", "--max-tokens", "30", "--top-p", "0.5", "--threads", "1", "--stats");
        assertEquals(0, r.code(), r.err());
        assertEquals(expected + "\n", r.out());
        assertTrue(r.err().startsWith("jrwkv: 36 prompt tokens ("), r.err());

        CliTest.run("generate", "--model", tiny(), "--prompt", "x", "--top-p", "2")
                .assertOneErrorLine(2, "invalid sampling option: topP must be in [0, 1], got 2.0");
        CliTest.run("generate", "--model", tiny(), "--prompt", "x", "--temperature", "NaN")
                .assertOneErrorLine(2, "temperature must be a finite number");
        CliTest.run("generate", "--model", tiny(), "--prompt", "  ", "--format", "chat")
                .assertOneErrorLine(1, "--prompt: content must not be empty");
        CliTest.run("generate", "--model", tiny(), "--prompt", "x", "--tokenizer", vocab())
                .assertOneErrorLine(1, "65530 ids but the model has only 256 logits");
    }

    @Test
    void chatKeepsStateAndSavesAndLoads() throws Exception {
        Path saved = dir.resolve("conversation.chat");
        SamplerSettings settings = SamplerSettings.chat().withSeed(9).withMaxTokens(25);
        String first;
        String second;
        try (RwkvModel m = RwkvModel.load(Path.of(tiny()), new ModelOptions(1, 0));
                ChatSession s = new ChatSession(m, Tokenizer.bytes(), PromptFormat.chat(), settings)) {
            first = s.send("Hello").text().strip();
            second = s.send("Where do you live?").text().strip();
        }
        ChatConsole.stdin = utf8("Hello\n/save " + saved + "\nWhere do you live?\n/reset\n/load " + saved
                + "\nWhere do you live?\n/nonsense\n/quit\nnever sent\n");
        CliTest.Run r = CliTest.run("chat", "--model", tiny(), "--seed", "9", "--max-tokens", "25", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(first), r.out());
        // The same second answer twice: once continuing, once after /reset and /load.
        int at = r.out().indexOf(second);
        assertTrue(at >= 0, r.out());
        assertTrue(r.out().indexOf(second, at + second.length()) > at, r.out());
        assertTrue(r.out().contains("(saved to " + saved + ")"), r.out());
        assertTrue(r.out().contains("(conversation reset)"), r.out());
        assertTrue(r.out().contains("(loaded " + saved + ": 2 messages"), r.out());
        assertEquals("error: unknown command /nonsense; /help lists them\n", r.err());
        assertTrue(Files.size(saved) > 0);

        ChatConsole.stdin = utf8("/load " + dir.resolve("nothing") + "\n");
        CliTest.Run missing = CliTest.run("chat", "--model", tiny());
        assertEquals(0, missing.code());
        assertTrue(missing.err().startsWith("error: no such file"), missing.err());
        CliTest.run("chat", "--model", tiny(), "--user", "a:b").assertOneErrorLine(1, "user name must be");
    }
}
