package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Generation on a tiny byte-level model (token = byte). */
class GeneratorTest {

    private static RwkvModel model;
    private static final Tokenizer BYTES = Tokenizer.bytes();
    private static final SamplerSettings SETTINGS = SamplerSettings.defaults().withSeed(42).withMaxTokens(60);

    @BeforeAll
    static void load() {
        model = RwkvModel.load(TestData.tiny("5v2-730K", "FP32"), new ModelOptions(1, 0));
    }

    @AfterAll
    static void free() {
        model.close();
    }

    @Test
    void blockingStreamingAndPulledGenerationsAgree() {
        try (Generator g = new Generator(model, BYTES, SETTINGS)) {
            Prompt prompt = Prompt.of("The ");
            GenerationResult blocking = g.generate(prompt);
            assertEquals(60, blocking.generatedTokens());
            assertEquals(StopReason.MAX_TOKENS, blocking.stopReason());
            assertEquals(4, blocking.promptTokens());
            assertEquals(BYTES.decode(blocking.tokens().stream().mapToInt(Integer::intValue).toArray()),
                    blocking.text());
            StringBuilder streamed = new StringBuilder();
            GenerationResult callback = g.generate(prompt, streamed::append);
            assertEquals(blocking, withTimes(callback, blocking));
            assertEquals(blocking.text(), streamed.toString());
            try (Stream<String> pieces = g.stream(prompt)) {
                assertEquals(blocking.text(), pieces.collect(Collectors.joining()));
            }
            try (Generation pulled = g.start(prompt)) {
                List<String> list = new ArrayList<>();
                pulled.forEachRemaining(list::add);
                assertFalse(list.contains(""));
                assertEquals(blocking.text(), String.join("", list));
                assertEquals(blocking.tokens(), pulled.result().tokens());
            }
            assertTrue(blocking.generatedTokensPerSecond() > 0);
            assertTrue(blocking.promptTokensPerSecond() > 0);
            // Another seed, other text; temperature 0 ignores the seed.
            assertNotEquals(blocking.text(), g.generate(prompt, SETTINGS.withSeed(43), s -> { }).text());
            SamplerSettings greedy = SETTINGS.withTemperature(0);
            assertEquals(g.generate(prompt, greedy.withSeed(1), s -> { }).text(),
                    g.generate(prompt, greedy.withSeed(2), s -> { }).text());
        }
    }

    /** The result with another result's durations (everything else compared exactly). */
    private static GenerationResult withTimes(GenerationResult r, GenerationResult times) {
        return new GenerationResult(r.text(), r.tokens(), r.promptTokens(), r.cachedTokens(), r.stopReason(),
                times.promptTime(), times.generationTime());
    }

    @Test
    void greedyMatchesArgmaxOfTheEngine() {
        try (Generator g = new Generator(model, BYTES, SamplerSettings.greedy().withMaxTokens(20));
                RwkvState s = model.newState(); Logits l = model.newLogits()) {
            GenerationResult r = g.generate("Hello");
            model.evalSequence(BYTES.encode("Hello"), s, l);
            for (int token : r.tokens()) {
                assertEquals(l.argmax(), token);
                model.eval(token, s, l);
            }
        }
    }

    @Test
    void stopStringsEndGenerationAndAreNotEmitted() {
        try (Generator g = new Generator(model, BYTES, SETTINGS)) {
            String free = g.generate("Once upon a time").text();
            assertTrue(free.length() > 20, free);
            // A stop string taken from the middle of the free text: the output ends right before
            // its first occurrence.
            String stop = free.substring(10, 13);
            int at = free.indexOf(stop);
            StringBuilder streamed = new StringBuilder();
            GenerationResult r = g.generate(Prompt.of("Once upon a time"), SETTINGS.withStopStrings(stop),
                    streamed::append);
            assertEquals(StopReason.STOP_STRING, r.stopReason());
            assertEquals(free.substring(0, at), r.text());
            assertEquals(r.text(), streamed.toString());
            assertFalse(streamed.toString().contains(stop));
            // The prompt's stop strings count too.
            GenerationResult viaPrompt = g.generate(new Prompt("Once upon a time", List.of(stop)));
            assertEquals(r.text(), viaPrompt.text());
            // Stop tokens: the first byte of the free text's 6th character ends it before.
            int token = free.getBytes(java.nio.charset.StandardCharsets.UTF_8)[5] & 0xFF;
            GenerationResult stopped = g.generate(Prompt.of("Once upon a time"), SETTINGS.withStopTokens(token),
                    s -> { });
            assertEquals(StopReason.STOP_TOKEN, stopped.stopReason());
            assertFalse(stopped.tokens().contains(token));
            assertTrue(stopped.generatedTokens() <= 5);
        }
    }

    @Test
    void bannedTokensNeverAppear() {
        try (Generator g = new Generator(model, BYTES, SETTINGS.withMaxTokens(200))) {
            String free = g.generate("The cat").text();
            assertTrue(free.contains(" ") && free.contains("e"), free);
            GenerationResult r = g.generate(Prompt.of("The cat"), SETTINGS.withMaxTokens(200).withBannedTokens(' ', 'e'),
                    s -> { });
            assertFalse(r.text().contains(" ") || r.text().contains("e"), r.text());
            assertEquals(200, r.generatedTokens());
        }
    }

    @Test
    void cancelFromAnotherThread() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Generator g = new Generator(model, BYTES, SETTINGS.withMaxTokens(1_000_000))) {
            CountDownLatch started = new CountDownLatch(1);
            Future<GenerationResult> run = pool.submit(() -> g.generate(Prompt.of("The"), piece -> started.countDown()));
            assertTrue(started.await(30, TimeUnit.SECONDS));
            g.cancel();
            GenerationResult r = run.get(30, TimeUnit.SECONDS);
            assertEquals(StopReason.CANCELLED, r.stopReason());
            assertTrue(r.generatedTokens() < 1_000_000);
            // The generator is free again.
            assertEquals(StopReason.MAX_TOKENS, g.generate(Prompt.of("The"), SETTINGS.withMaxTokens(3), s -> { })
                    .stopReason());
            // Closing a pulled generation cancels it.
            Generation open = g.start(Prompt.of("The"), SETTINGS.withMaxTokens(1_000_000));
            open.next();
            assertThrows(IllegalStateException.class, () -> g.start(Prompt.of("x")));
            open.close();
            assertEquals(StopReason.CANCELLED, open.result().stopReason());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void prefixCacheFeedsOnlyTheRestAndGivesTheSameText() {
        String system = "System: You are a storyteller who writes short tales.\n\n";
        Prompt prompt = PromptFormat.chat("You are a storyteller who writes short tales.").prompt("Tell me a tale.");
        assertTrue(prompt.text().startsWith(system));
        String expected;
        try (Generator plain = new Generator(model, BYTES, SETTINGS)) {
            GenerationResult r = plain.generate(prompt);
            assertEquals(prompt.text().length(), r.promptTokens());
            expected = r.text();
        }
        try (PrefixCache cache = new PrefixCache(model, BYTES, 2);
                Generator cached = new Generator(model, BYTES, SETTINGS, cache)) {
            assertEquals(system.length(), cache.add(system));
            GenerationResult r = cached.generate(prompt);
            assertEquals(system.length(), r.cachedTokens());
            assertEquals(prompt.text().length() - system.length(), r.promptTokens());
            assertEquals(expected, r.text());
            assertEquals(1, cache.hits());
            // A prompt equal to a cached prefix uses its logits too.
            cache.add(prompt.text());
            GenerationResult whole = cached.generate(prompt);
            assertEquals(0, whole.promptTokens());
            assertEquals(expected, whole.text());
            // Capacity 2: a third prefix evicts the least recently used one.
            cache.add("Other prefix.");
            assertEquals(2, cache.size());
            // Prompts that do not start with a cached prefix start from scratch.
            GenerationResult miss = cached.generate("Unrelated");
            assertEquals(0, miss.cachedTokens());
        }
    }

    @Test
    void badUse() {
        Tokenizer world = TokenizerData.world();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Generator(model, world, SETTINGS));
        assertTrue(e.getMessage().contains("65530 ids but the model has only 256 logits"), e.getMessage());
        try (Generator g = new Generator(model, BYTES, SETTINGS)) {
            assertThrows(IllegalArgumentException.class, () -> g.generate(""));
        }
        Generator closed = new Generator(model, BYTES, SETTINGS);
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.generate("x"));
    }
}
