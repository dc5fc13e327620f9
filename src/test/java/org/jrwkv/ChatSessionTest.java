package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jrwkv.internal.text.IntList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chat turns on a tiny byte-level model: only new tokens are fed; save and restore. */
class ChatSessionTest {

    private static RwkvModel model;
    private static final Tokenizer BYTES = Tokenizer.bytes();
    private static final SamplerSettings SETTINGS = SamplerSettings.chat().withSeed(7).withMaxTokens(40);

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        model = RwkvModel.load(TestData.tiny("7v0-834K", "FP32"), new ModelOptions(1, 0));
    }

    @AfterAll
    static void free() {
        model.close();
    }

    @Test
    void eachTurnFeedsOnlyItsNewTokensAndTheStateHoldsTheWholeConversation() {
        PromptFormat.Chat format = PromptFormat.chat("Be kind.");
        try (ChatSession chat = new ChatSession(model, BYTES, format, SETTINGS)) {
            IntList fed = new IntList();
            fed.addAll(BYTES.encode("System: Be kind.\n\n"));
            assertEquals(fed.size(), chat.tokenCount());
            for (String message : List.of("Hello there", "What is\n\n\na cat?")) {
                long before = chat.tokenCount();
                GenerationResult reply = chat.send(message);
                int[] turn = BYTES.encode(format.userTurn(message));
                assertEquals(turn.length, reply.promptTokens(), "only this turn's tokens are fed");
                fed.addAll(turn);
                reply.tokens().forEach(fed::add);
                if (reply.stopReason() != StopReason.STOP_STRING) {
                    fed.addAll(BYTES.encode("\n\n"));
                }
                assertEquals(fed.size(), chat.tokenCount());
                assertTrue(chat.tokenCount() - before < fed.size(), "the history is not fed again");
                assertFalse(reply.text().contains("\n\n"), reply.text());
            }
            // The session's state is exactly the state after all those tokens, fed at once.
            try (RwkvState fresh = model.newState()) {
                model.evalSequence(fed.toArray(), fresh, null);
                assertArrayEquals(fresh.toArray(), chat.state().toArray());
            }
            List<ChatMessage> history = chat.history();
            assertEquals(5, history.size());
            assertEquals(ChatMessage.Role.SYSTEM, history.get(0).role());
            assertEquals("What is\na cat?", history.get(3).text());
            assertEquals(ChatMessage.Role.ASSISTANT, history.get(4).role());
        }
    }

    @Test
    void savedThenRestoredSessionContinuesLikeAnUninterruptedOne() throws IOException {
        Path file = dir.resolve("chat.jrwkv");
        GenerationResult uninterrupted;
        try (ChatSession chat = new ChatSession(model, BYTES, PromptFormat.chat(), SETTINGS)) {
            chat.send("Tell me about dogs");
            chat.save(file);
            uninterrupted = chat.send("And cats?");
        }
        try (ChatSession restored = new ChatSession(model, BYTES, PromptFormat.chat("Something else"), SETTINGS)) {
            restored.load(file);
            assertEquals(PromptFormat.chat(), restored.format());
            assertEquals(2, restored.history().size());
            GenerationResult next = restored.send("And cats?");
            assertEquals(uninterrupted.tokens(), next.tokens());
            assertEquals(uninterrupted.text(), next.text());
            // Reset goes back to the start of the restored format (no system prompt).
            restored.reset();
            assertEquals(0, restored.tokenCount());
            assertEquals(List.of(), restored.history());
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left");
        }
    }

    @Test
    void resetAndRegenerate() {
        try (ChatSession chat = new ChatSession(model, BYTES, PromptFormat.chat(), SETTINGS)) {
            float[] start = chat.state().toArray();
            GenerationResult first = chat.send("Hi");
            GenerationResult again = chat.regenerate(s -> { });
            assertEquals(0, again.promptTokens());
            assertTrue(first.generatedTokens() > 0);
            assertEquals(2, chat.history().size(), "the old reply was replaced");
            assertNotEquals(first.tokens(), again.tokens(), "the random stream went on");
            chat.reset();
            assertArrayEquals(start, chat.state().toArray());
            assertThrows(IllegalStateException.class, () -> chat.regenerate(s -> { }));
            assertThrows(IllegalArgumentException.class, () -> chat.send(" \n\n "));
        }
    }

    @Test
    void cancelEndsTheReplyAndKeepsTheTurnStructure() {
        try (ChatSession chat = new ChatSession(model, BYTES, PromptFormat.chat(),
                SETTINGS.withMaxTokens(100_000).withStopStrings("zzzz-never"))) {
            GenerationResult r = chat.send("Hi", piece -> chat.cancel());
            assertEquals(StopReason.CANCELLED, r.stopReason());
            assertTrue(r.generatedTokens() < 100);
            // The separator was fed: the next turn works and counts only its own tokens.
            GenerationResult next = chat.send("Again");
            assertEquals(BYTES.encode("User: Again\n\nAssistant:").length, next.promptTokens());
        }
    }

    @Test
    void damagedOrForeignFilesAreRefused() throws IOException {
        Path file = dir.resolve("chat.jrwkv");
        try (ChatSession chat = new ChatSession(model, BYTES, PromptFormat.chat(), SETTINGS)) {
            chat.send("Hi");
            chat.save(file);
            float[] state = chat.state().toArray();
            byte[] bytes = Files.readAllBytes(file);

            byte[] flipped = bytes.clone();
            flipped[bytes.length / 2] ^= 1;
            expectRefused(chat, flipped, "checksum mismatch");
            expectRefused(chat, java.util.Arrays.copyOf(bytes, bytes.length - 10), "checksum mismatch");
            expectRefused(chat, "not a session".getBytes(java.nio.charset.StandardCharsets.UTF_8), "wrong magic");
            assertArrayEquals(state, chat.state().toArray(), "nothing changed");
            assertEquals(3, chat.history().size() + 1);

            try (RwkvModel other = RwkvModel.load(TestData.tiny("5v2-730K", "FP32"), new ModelOptions(1, 0));
                    ChatSession foreign = new ChatSession(other, BYTES, PromptFormat.chat(), SETTINGS)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> foreign.load(file));
                assertTrue(e.getMessage().contains("belongs to another model"), e.getMessage());
                assertEquals(List.of(), foreign.history());
            }
        }
    }

    private void expectRefused(ChatSession chat, byte[] content, String fragment) throws IOException {
        Path bad = dir.resolve("bad.jrwkv");
        Files.write(bad, content);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> chat.load(bad));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
    }
}
