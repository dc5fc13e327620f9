package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link BatchGenerator} on a tiny byte-level model: K sessions stepped together produce exactly
 * what K separate {@link Generator}s with the same prompts and settings produce, also when
 * sessions join, leave or fail mid-way.
 */
class BatchGeneratorTest {

    private static final Tokenizer BYTES = Tokenizer.bytes();
    private static final SamplerSettings BASE = SamplerSettings.defaults().withMaxTokens(40);
    private static RwkvModel model;

    @BeforeAll
    static void load() {
        model = RwkvModel.load(TestData.tiny("5v2-730K", "FP32"), new ModelOptions(1, 0));
    }

    @AfterAll
    static void free() {
        model.close();
    }

    /** One session's input. */
    private record Job(Prompt prompt, SamplerSettings settings) {
    }

    private static GenerationResult alone(Job job) {
        try (Generator g = new Generator(model, BYTES, job.settings())) {
            return g.generate(job.prompt(), job.settings(), piece -> { });
        }
    }

    /** Jobs that end at different steps and in different ways. */
    private static List<Job> jobs() {
        List<Job> jobs = new ArrayList<>();
        jobs.add(new Job(Prompt.of("The "), BASE.withSeed(1)));
        jobs.add(new Job(Prompt.of("Once upon a time"), BASE.withSeed(2).withMaxTokens(13)));
        jobs.add(new Job(Prompt.of("\u00e9t\u00e9"), BASE.withSeed(3).withTemperature(0)));
        jobs.add(new Job(Prompt.of("In"), SamplerSettings.chat().withSeed(4).withMaxTokens(27)));
        // A stop string that this job's own text contains, so that it stops mid-way.
        Job probe = new Job(Prompt.of("Hello"), BASE.withSeed(5));
        String text = alone(probe).text();
        assertTrue(text.length() > 12, text);
        jobs.add(new Job(new Prompt("Hello", List.of(text.substring(8, 10))), probe.settings()));
        return jobs;
    }

    /** The result with another result's durations (everything else compared exactly). */
    private static GenerationResult withTimes(GenerationResult r, GenerationResult times) {
        return new GenerationResult(r.text(), r.tokens(), r.promptTokens(), r.cachedTokens(), r.stopReason(),
                times.promptTime(), times.generationTime());
    }

    @Test
    void sessionsProduceWhatSeparateGeneratorsProduce() {
        List<Job> jobs = jobs();
        try (BatchGenerator batch = new BatchGenerator(model, BYTES)) {
            List<BatchSession> sessions = new ArrayList<>();
            List<StringBuilder> streamed = new ArrayList<>();
            for (Job job : jobs) {
                StringBuilder text = new StringBuilder();
                streamed.add(text);
                sessions.add(batch.add(job.prompt(), job.settings(), text::append));
            }
            assertEquals(jobs.size(), batch.activeCount());
            assertEquals(sessions, batch.sessions());
            int steps = 0;
            while (batch.step() > 0) {
                steps++;
            }
            assertEquals(40, steps, "the longest job takes its 40 tokens (the last token is not fed)");
            for (int i = 0; i < jobs.size(); i++) {
                GenerationResult expected = alone(jobs.get(i));
                GenerationResult got = sessions.get(i).result().join();
                assertEquals(expected, withTimes(got, expected), "job " + i);
                assertEquals(expected.text(), streamed.get(i).toString(), "job " + i);
                assertTrue(sessions.get(i).isDone());
                assertEquals(expected.generatedTokens(), sessions.get(i).generatedTokens());
            }
            List<StopReason> reasons = sessions.stream().map(s -> s.result().join().stopReason()).toList();
            assertTrue(reasons.contains(StopReason.MAX_TOKENS) && reasons.contains(StopReason.STOP_STRING), reasons::toString);
            assertEquals(0, batch.activeCount());
            assertEquals(0, batch.step(), "nothing to do");
        }
    }

    @Test
    void sessionsJoinAndLeaveMidWay() {
        List<Job> jobs = jobs();
        try (BatchGenerator batch = new BatchGenerator(model, BYTES)) {
            BatchSession first = batch.add(jobs.get(0).prompt(), jobs.get(0).settings());
            StringBuilder secondText = new StringBuilder();
            BatchSession second = batch.add(jobs.get(3).prompt(), jobs.get(3).settings(), secondText::append);
            for (int i = 0; i < 5; i++) {
                assertEquals(2, batch.step());
            }
            BatchSession late = batch.add(jobs.get(1).prompt(), jobs.get(1).settings());
            for (int i = 0; i < 3; i++) {
                batch.step();
            }
            assertTrue(batch.remove(second));
            assertFalse(batch.remove(second), "already removed");
            assertTrue(second.isDone());
            GenerationResult cut = second.result().join();
            assertEquals(StopReason.CANCELLED, cut.stopReason());
            assertEquals(8, cut.generatedTokens());
            assertEquals(cut.text(), secondText.toString(), "the held-back text went to the callback");
            GenerationResult full = alone(jobs.get(3));
            assertEquals(full.tokens().subList(0, 8), cut.tokens());
            assertTrue(full.text().startsWith(cut.text()), cut.text());

            first.cancel();  // ends at the next step
            assertFalse(first.isDone());
            batch.step();
            assertEquals(StopReason.CANCELLED, first.result().join().stopReason());
            assertEquals(alone(jobs.get(0)).tokens().subList(0, 8), first.result().join().tokens());

            batch.runUntilDone();
            GenerationResult expected = alone(jobs.get(1));
            assertEquals(expected, withTimes(late.result().join(), expected));
        }
    }

    @Test
    void aFailingSessionLeavesTheOthersAlone() {
        List<Job> jobs = jobs();
        try (BatchGenerator batch = new BatchGenerator(model, BYTES)) {
            RuntimeException boom = new IllegalStateException("callback failed");
            int[] calls = {0};
            BatchSession failing = batch.add(jobs.get(0).prompt(), jobs.get(0).settings(), piece -> {
                if (++calls[0] == 3) {
                    throw boom;
                }
            });
            BatchSession healthy = batch.add(jobs.get(2).prompt(), jobs.get(2).settings());
            // A callback may add and remove sessions.
            List<BatchSession> added = new ArrayList<>();
            BatchSession adder = batch.add(jobs.get(1).prompt(), jobs.get(1).settings(), piece -> {
                if (added.isEmpty()) {
                    added.add(batch.add(jobs.get(4).prompt(), jobs.get(4).settings()));
                }
            });
            batch.runUntilDone();
            CompletionException e = assertThrows(CompletionException.class, () -> failing.result().join());
            assertSame(boom, e.getCause());
            assertTrue(failing.isDone());
            GenerationResult expected = alone(jobs.get(2));
            assertEquals(expected, withTimes(healthy.result().join(), expected));
            expected = alone(jobs.get(1));
            assertEquals(expected, withTimes(adder.result().join(), expected));
            expected = alone(jobs.get(4));
            assertEquals(expected, withTimes(added.get(0).result().join(), expected));
        }
    }

    @Test
    void prefixCacheGivesTheSameTextAsAGeneratorWithIt() {
        try (PrefixCache cache = new PrefixCache(model, BYTES, 4)) {
            cache.add("Once upon");
            Job job = new Job(Prompt.of("Once upon a time"), BASE.withSeed(9));
            GenerationResult expected;
            try (Generator g = new Generator(model, BYTES, job.settings(), cache)) {
                expected = g.generate(job.prompt());
            }
            assertEquals(9, expected.cachedTokens());
            try (BatchGenerator batch = new BatchGenerator(model, BYTES, cache)) {
                BatchSession s = batch.add(job.prompt(), job.settings());
                batch.runUntilDone();
                assertEquals(expected, withTimes(s.result().join(), expected));
            }
        }
    }

    @Test
    void readmeExampleRuns() {
        Tokenizer tokenizer = BYTES;
        StringBuilder streamed = new StringBuilder();
        String text;
        // ---- README example (System.out::print replaced by streamed::append) ----
        try (BatchGenerator batch = new BatchGenerator(model, tokenizer)) {
            BatchSession a = batch.add(PromptFormat.questionAnswer().prompt("What is RWKV?"),
                    SamplerSettings.defaults().withSeed(1), streamed::append);
            BatchSession b = batch.add(Prompt.of("Once upon a time"), SamplerSettings.defaults().withSeed(2));
            while (batch.step() > 0) {
                // between steps a server adds new requests (batch.add) and drops abandoned ones (batch.remove)
            }
            text = b.result().join().text();
            assertEquals(streamed.toString(), a.result().join().text());
        }
        // ---- end ----
        assertEquals(alone(new Job(Prompt.of("Once upon a time"), SamplerSettings.defaults().withSeed(2))).text(), text);
    }

    @Test
    void closeEndsTheSessionsAndRefusesMoreWork() {
        BatchGenerator batch = new BatchGenerator(model, BYTES);
        BatchSession s = batch.add(Prompt.of("abc"), BASE.withSeed(1));
        batch.step();
        batch.step();
        batch.close();
        batch.close();
        assertTrue(batch.isClosed());
        assertEquals(StopReason.CANCELLED, s.result().join().stopReason());
        assertEquals(2, s.result().join().generatedTokens());
        assertThrows(IllegalStateException.class, batch::step);
        assertThrows(IllegalStateException.class, () -> batch.add(Prompt.of("x"), BASE));
        assertThrows(NullPointerException.class, () -> new BatchGenerator(model, BYTES).add(null, BASE));
        try (RwkvModel world = RwkvModel.load(TestData.tiny("5v2-730K", "FP32"))) {
            Tokenizer big = TokenizerData.world();
            assertThrows(IllegalArgumentException.class, () -> new BatchGenerator(world, big));
        }
    }
}
