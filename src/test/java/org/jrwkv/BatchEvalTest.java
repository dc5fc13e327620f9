package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link RwkvModel#evalBatch}: each session of a batch ends up exactly (bit for bit) as with
 * {@link RwkvModel#eval} on its own, in every shipped tiny model; bad arguments are refused before
 * anything changes; closed objects are refused.
 */
class BatchEvalTest {

    private static final String[] PROMPTS = {"", "a", "hello world", "The quick brown fox", "\u00e9t\u00e9 \ud83d\ude00"};

    /** The floats of a state or logits as their bits, for exact comparison (NaN included). */
    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.jrwkv.EvalConsistencyTest#shippedFiles")
    void batchEqualsSingleSessions(String name, Path file) {
        try (RwkvModel model = RwkvModel.load(file, new ModelOptions(1, 0))) {
            int k = PROMPTS.length;
            RwkvState[] batched = new RwkvState[k];
            RwkvState[] single = new RwkvState[k];
            Logits[] batchedLogits = new Logits[k];
            Logits[] singleLogits = new Logits[k];
            try {
                for (int i = 0; i < k; i++) {
                    batched[i] = model.newState();
                    single[i] = model.newState();
                    batchedLogits[i] = model.newLogits();
                    singleLogits[i] = model.newLogits();
                    int[] prompt = TestData.byteTokens(PROMPTS[i]);
                    if (prompt.length > 0) { // session 0 starts from the initial state
                        model.evalSequence(prompt, batched[i], null);
                        single[i].copyFrom(batched[i]);
                    }
                }
                for (int step = 0; step < 6; step++) {
                    int[] tokens = new int[k];
                    for (int i = 0; i < k; i++) {
                        tokens[i] = (i * 37 + step * 11 + 3) % model.vocabSize();
                        model.eval(tokens[i], single[i], singleLogits[i]);
                    }
                    model.evalBatch(tokens, batched, batchedLogits);
                    for (int i = 0; i < k; i++) {
                        String where = name + ", session " + i + ", step " + step;
                        assertArrayEquals(bits(single[i].toArray()), bits(batched[i].toArray()), where);
                        assertArrayEquals(bits(singleLogits[i].toArray()), bits(batchedLogits[i].toArray()), where);
                    }
                }
            } finally {
                closeAll(batched);
                closeAll(single);
                closeAll(batchedLogits);
                closeAll(singleLogits);
            }
        }
    }

    @Test
    void logitsMayBeSkippedPerSessionOrAltogether() {
        try (RwkvModel model = RwkvModel.load(TestData.tiny("7v0-834K", "Q5_1"), new ModelOptions(1, 0));
             RwkvState a = model.newState(); RwkvState b = model.newState(); RwkvState c = model.newState();
             RwkvState ref = model.newState(); Logits la = model.newLogits(); Logits lc = model.newLogits();
             Logits lref = model.newLogits()) {
            model.evalBatch(new int[] {'x', 'x', 'x'}, new RwkvState[] {a, b, c}, null);
            model.evalBatch(new int[] {'y', 'y', 'y'}, new RwkvState[] {a, b, c}, new Logits[] {la, null, lc});
            model.eval('x', ref, null);
            model.eval('y', ref, lref);
            for (RwkvState s : new RwkvState[] {a, b, c}) {
                assertArrayEquals(bits(ref.toArray()), bits(s.toArray()));
            }
            assertArrayEquals(bits(lref.toArray()), bits(la.toArray()));
            assertArrayEquals(bits(lref.toArray()), bits(lc.toArray()));
            // One session; and more sessions than the engine evaluates per pass (64).
            model.evalBatch(new int[] {'z'}, new RwkvState[] {a}, new Logits[] {la});
            model.eval('z', ref, lref);
            assertArrayEquals(bits(lref.toArray()), bits(la.toArray()));
            RwkvState[] many = new RwkvState[70];
            Logits[] manyLogits = new Logits[70];
            int[] tokens = new int[70];
            try {
                for (int i = 0; i < many.length; i++) {
                    many[i] = model.newState();
                    manyLogits[i] = model.newLogits();
                    tokens[i] = i + 40;
                }
                model.evalBatch(tokens, many, manyLogits);
                for (int i : new int[] {0, 63, 64, 69}) {
                    try (RwkvState s = model.newState(); Logits l = model.newLogits()) {
                        model.eval(tokens[i], s, l);
                        assertArrayEquals(bits(s.toArray()), bits(many[i].toArray()), "session " + i);
                        assertArrayEquals(bits(l.toArray()), bits(manyLogits[i].toArray()), "session " + i);
                    }
                }
            } finally {
                closeAll(many);
                closeAll(manyLogits);
            }
        }
    }

    @TempDir
    Path dir;

    @Test
    void badArgumentsAreRefusedBeforeAnythingChanges() {
        try (RwkvModel model = RwkvModel.load(TestData.tiny("5v2-730K", "FP32"), new ModelOptions(1, 0));
             RwkvModel other = RwkvModel.load(TestData.tiny("4v0-660K", "FP32"), new ModelOptions(1, 0));
             RwkvState a = model.newState(); RwkvState b = model.newState(); RwkvState foreign = other.newState();
             Logits la = model.newLogits(); Logits lb = model.newLogits()) {
            model.eval('q', a, la);
            model.eval('r', b, lb);
            float[] beforeA = a.toArray();
            float[] beforeB = b.toArray();
            float[] beforeLa = la.toArray();
            RwkvState[] ab = {a, b};
            Logits[] lab = {la, lb};

            assertMessage(IllegalArgumentException.class, "at least one session",
                    () -> model.evalBatch(new int[0], new RwkvState[0], null));
            assertMessage(IllegalArgumentException.class, "got 2 tokens, 1 states",
                    () -> model.evalBatch(new int[] {1, 2}, new RwkvState[] {a}, null));
            assertMessage(IllegalArgumentException.class, "1 logits buffers",
                    () -> model.evalBatch(new int[] {1, 2}, ab, new Logits[] {la}));
            assertMessage(IllegalArgumentException.class, "token 256 of session 1 is out of range [0, 256)",
                    () -> model.evalBatch(new int[] {1, 256}, ab, lab));
            assertMessage(IllegalArgumentException.class, "token -1 of session 0",
                    () -> model.evalBatch(new int[] {-1, 2}, ab, lab));
            assertMessage(IllegalArgumentException.class, "states[1] is null",
                    () -> model.evalBatch(new int[] {1, 2}, new RwkvState[] {a, null}, lab));
            assertMessage(IllegalArgumentException.class, "states[0] and states[2] are the same state",
                    () -> model.evalBatch(new int[] {1, 2, 3}, new RwkvState[] {a, b, a}, null));
            assertMessage(IllegalArgumentException.class, "a logits buffer appears twice",
                    () -> model.evalBatch(new int[] {1, 2}, ab, new Logits[] {la, la}));
            assertMessage(IllegalArgumentException.class, "state belongs to another model",
                    () -> model.evalBatch(new int[] {1, 2}, new RwkvState[] {a, foreign}, null));
            // All tiny models have 256 logits: a buffer of another length comes from a random model.
            Path file = dir.resolve("vocab300.bin");
            new RandomModel(Architecture.V5_2, 64, 1, 300, DataType.FP32, 1).write(file);
            try (RwkvModel wide = RwkvModel.load(file); Logits wrong = wide.newLogits()) {
                assertEquals(300, wrong.length());
                assertMessage(IllegalArgumentException.class, "logits buffer 1 has 300 floats; this model has 256",
                        () -> model.evalBatch(new int[] {1, 2}, ab, new Logits[] {la, wrong}));
            }
            assertThrows(NullPointerException.class, () -> model.evalBatch(null, ab, lab));
            assertThrows(NullPointerException.class, () -> model.evalBatch(new int[] {1, 2}, null, lab));
            assertArrayEquals(bits(beforeA), bits(a.toArray()), "a refused call changes nothing");
            assertArrayEquals(bits(beforeB), bits(b.toArray()));
            assertArrayEquals(bits(beforeLa), bits(la.toArray()));
        }
    }

    @Test
    void closedObjectsAreRefused() {
        RwkvModel model = RwkvModel.load(TestData.tiny("5v2-730K", "FP32"), new ModelOptions(1, 0));
        RwkvState a = model.newState();
        RwkvState b = model.newState();
        Logits la = model.newLogits();
        Logits lb = model.newLogits();
        b.close();
        assertMessage(IllegalStateException.class, "state is closed",
                () -> model.evalBatch(new int[] {1, 2}, new RwkvState[] {a, b}, null));
        RwkvState c = model.newState();
        lb.close();
        assertMessage(IllegalStateException.class, "logits buffer is closed",
                () -> model.evalBatch(new int[] {1, 2}, new RwkvState[] {a, c}, new Logits[] {la, lb}));
        float[] before = a.toArray();
        model.close();
        assertMessage(IllegalStateException.class, "model is closed",
                () -> model.evalBatch(new int[] {1, 2}, new RwkvState[] {a, c}, null));
        assertArrayEquals(bits(before), bits(a.toArray()));
        a.close();
        c.close();
        la.close();
    }

    @Test
    void copiesRunBatchesConcurrentlyWithTheSameResults() throws Exception {
        try (RwkvModel model = RwkvModel.load(TestData.tiny("6v0-3m", "Q5_1"), new ModelOptions(1, 0));
             RwkvModel copy = model.copy()) {
            float[][] expected = runBatch(model, 7);
            Thread[] threads = new Thread[2];
            float[][][] got = new float[2][][];
            for (int t = 0; t < 2; t++) {
                int index = t;
                RwkvModel m = t == 0 ? model : copy;
                threads[t] = new Thread(() -> got[index] = runBatch(m, 7));
                threads[t].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            for (float[][] g : got) {
                assertTrue(g != null, "thread finished");
                for (int i = 0; i < expected.length; i++) {
                    assertArrayEquals(bits(expected[i]), bits(g[i]));
                }
            }
        }
    }

    /** Four sessions, {@code steps} batch steps; the final states. */
    private static float[][] runBatch(RwkvModel model, int steps) {
        RwkvState[] states = new RwkvState[4];
        try {
            for (int i = 0; i < states.length; i++) {
                states[i] = model.newState();
            }
            for (int step = 0; step < steps; step++) {
                model.evalBatch(new int[] {step, step + 1, step + 2, step + 3}, states, null);
            }
            return Arrays.stream(states).map(RwkvState::toArray).toArray(float[][]::new);
        } finally {
            closeAll(states);
        }
    }

    private static void assertMessage(Class<? extends Throwable> type, String fragment,
            org.junit.jupiter.api.function.Executable call) {
        Throwable t = assertThrows(type, call);
        assertTrue(t.getMessage().contains(fragment), t.getMessage());
    }

    private static void closeAll(AutoCloseable[] objects) {
        for (AutoCloseable o : objects) {
            if (o != null) {
                try {
                    o.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }
}
