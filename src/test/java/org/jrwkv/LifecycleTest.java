package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Misuse gives exceptions, never crashes: closed objects, wrong sizes, bad tokens. */
class LifecycleTest {

    private static final Path V7 = TestData.tiny("7v0-834K", "Q5_0");

    @Test
    void useAfterCloseIsAnException() {
        RwkvModel model = RwkvModel.load(V7, new ModelOptions(1, 0));
        RwkvState state = model.newState();
        Logits logits = model.newLogits();
        model.close();
        model.close();
        assertTrue(model.isClosed());
        assertThrows(IllegalStateException.class, () -> model.eval(1, state));
        assertThrows(IllegalStateException.class, () -> model.eval(1, state, logits));
        assertThrows(IllegalStateException.class, () -> model.evalSequence(new int[] {1, 2}, state, logits));
        assertThrows(IllegalStateException.class, () -> model.evalSequence(new int[] {1, 2}, 1, state, null));
        assertThrows(IllegalStateException.class, model::newState);
        assertThrows(IllegalStateException.class, model::copy);
        assertThrows(IllegalStateException.class, state::reset);
        // Metadata stays readable.
        assertEquals(Architecture.V7, model.architecture());
        assertEquals(256, model.vocabSize());

        // The state and logits outlive the model; then they close too.
        assertEquals(model.stateLength(), state.toArray().length);
        state.close();
        state.close();
        logits.close();
        logits.close();
        assertThrows(IllegalStateException.class, state::toArray);
        assertThrows(IllegalStateException.class, state::copy);
        assertThrows(IllegalStateException.class, state::exportBytes);
        assertThrows(IllegalStateException.class, () -> state.fromArray(new float[model.stateLength()]));
        assertThrows(IllegalStateException.class, () -> logits.get(0));

        try (RwkvModel other = RwkvModel.load(V7, new ModelOptions(1, 0));
             Logits l = other.newLogits();
             RwkvState s = other.newState()) {
            assertThrows(IllegalStateException.class, () -> other.eval(1, state, l), "closed state");
            assertThrows(IllegalStateException.class, () -> other.eval(1, s, logits), "closed logits");
            assertThrows(IllegalStateException.class, () -> s.copyFrom(state), "copy from closed state");
            other.eval(1, s, l); // and the open ones still work
        }
    }

    @Test
    void wrongSizesAndBadTokensAreRefusedBeforeTheEngine() {
        try (RwkvModel v7 = RwkvModel.load(V7, new ModelOptions(1, 0));
             RwkvModel v4 = RwkvModel.load(TestData.tiny("4v0-660K", "FP16"), new ModelOptions(1, 0));
             RwkvState state = v7.newState();
             RwkvState v4State = v4.newState();
             Logits logits = v7.newLogits()) {
            float[] before = state.toArray();
            for (int token : new int[] {-1, 256, 257, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v7.eval(token, state));
                assertTrue(e.getMessage().contains("out of range [0, 256)"), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> v7.evalSequence(new int[] {1, token, 2}, state, logits));
                assertThrows(IllegalArgumentException.class, () -> v7.evalSequence(new int[] {1, 2, token}, 2, state, null));
            }
            assertThrows(IllegalArgumentException.class, () -> v7.evalSequence(new int[0], state, logits));
            assertThrows(IllegalArgumentException.class, () -> v7.evalSequence(new int[] {1}, 0, state, logits));
            assertThrows(NullPointerException.class, () -> v7.evalSequence(null, state, logits));
            assertThrows(NullPointerException.class, () -> v7.eval(1, null, logits));
            assertThrows(IllegalArgumentException.class, () -> v7.eval(1, v4State, logits), "state of another model");
            assertThrows(IllegalArgumentException.class, () -> state.fromArray(new float[3]));
            assertThrows(IllegalArgumentException.class, () -> state.copyFrom(v4State));
            assertThrows(IllegalArgumentException.class, () -> v7.copy(0));
            try (Logits wrong = new Logits(255)) {
                assertThrows(IllegalArgumentException.class, () -> v7.eval(1, state, wrong));
            }
            assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(state.toArray()),
                    "refused calls leave the state alone");
            v7.eval(255, state, logits);
            v7.eval(0, state, logits);
        }
    }

    /** Closing a model while another thread evaluates on it waits for the evaluation. */
    @Test
    void closeWaitsForARunningEvaluation() throws Exception {
        RwkvModel model = RwkvModel.load(TestData.tiny("6v0-3m", "Q5_1"), new ModelOptions(1, 0));
        RwkvState state = model.newState();
        int[] tokens = TestData.byteTokens(EvalConsistencyTest.CHUNK_PROMPT.repeat(4));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch started = new CountDownLatch(1);
            Future<Integer> evaluations = pool.submit(() -> {
                started.countDown();
                int done = 0;
                try {
                    while (true) {
                        model.evalSequence(tokens, state, null);
                        done++;
                    }
                } catch (IllegalStateException closed) {
                    return done;
                }
            });
            started.await();
            Thread.sleep(100);
            model.close();
            assertTrue(evaluations.get() >= 0);
        } finally {
            pool.shutdownNow();
            state.close();
        }
    }

    @Test
    void forgottenModelsAndStatesCanBeCollected() throws InterruptedException {
        Gc.awaitCollection(forgetModel());
        Gc.awaitCollection(forgetState());
    }

    private static WeakReference<RwkvModel> forgetModel() {
        RwkvModel model = RwkvModel.load(V7, new ModelOptions(1, 0));
        model.eval(1, model.newState());
        return new WeakReference<>(model);
    }

    private static WeakReference<RwkvState> forgetState() {
        try (RwkvModel model = RwkvModel.load(V7, new ModelOptions(1, 0))) {
            RwkvState state = model.newState();
            model.eval(1, state);
            return new WeakReference<>(state);
        }
    }

    /**
     * The Java checks stop bad tokens first, but the engine's own check stays (c-api.md §6.6);
     * reached here through the raw binding, it becomes an exception with the context's flags.
     */
    @Test
    void engineErrorsDuringEvaluationBecomeExceptions() {
        org.jrwkv.internal.NativeLib.applyThreadPrintFlag();
        org.jrwkv.internal.RwkvNative.rwkv_context ctx;
        try (org.jrwkv.internal.NativeLib.Utf8 path = new org.jrwkv.internal.NativeLib.Utf8(V7.toString())) {
            ctx = org.jrwkv.internal.RwkvNative.rwkv_init_from_file(path.pointer(), 1, 0);
        }
        try {
            org.jrwkv.internal.RwkvNative.rwkv_set_print_errors(ctx, false);
            assertEquals(false, org.jrwkv.internal.RwkvNative.rwkv_eval(ctx, 256, (org.bytedeco.javacpp.FloatPointer) null,
                    null, null));
            RwkvException e = NativeErrors.context(ctx, "Evaluation failed");
            assertEquals(0x100, e.flags());
            assertEquals(RwkvException.Category.ARGS, e.category());
            assertTrue(e.getMessage().startsWith("Evaluation failed: invalid argument (error 0x100"), e.getMessage());
            assertEquals(0, org.jrwkv.internal.RwkvNative.rwkv_get_last_error(ctx), "reading resets the flags");
        } finally {
            org.jrwkv.internal.RwkvNative.rwkv_free(ctx);
        }
    }
}
