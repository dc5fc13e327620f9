package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Serial, sequence and chunked evaluation agree bit for bit; skipping the logits leaves the state
 * bit-identical; copies agree with the original, also concurrently; states export and import
 * exactly (c-api.md §6).
 */
class EvalConsistencyTest {

    /** The prompt of rwkv.cpp's chunking test (70 bytes). */
    static final String CHUNK_PROMPT = "This is a port of [BlinkDL/RWKV-LM](https://github.com/BlinkDL/RWKV-LM";
    static final String HELLO = "hello world";

    private static ModelOptions twoThreads() {
        return new ModelOptions(2, 0);
    }

    /** Every shipped tiny model file. */
    static Stream<Arguments> shippedFiles() {
        List<Arguments> files = new ArrayList<>();
        for (String v : TestData.ALL_VERSIONS) {
            for (String type : new String[] {"FP32", "FP16", "Q5_0", "Q5_1"}) {
                if (!v.startsWith("6v0") || type.startsWith("Q")) { // 6v0 has no FP32/FP16 files
                    files.add(Arguments.of(v + " " + type, TestData.tiny(v, type)));
                }
            }
        }
        return files.stream();
    }

    /** Serial evaluation from the initial state; returns the final state and the last logits. */
    private static float[][] serial(RwkvModel model, int[] tokens, boolean logitsEveryStep) {
        try (RwkvState state = model.newState(); Logits logits = model.newLogits()) {
            for (int i = 0; i < tokens.length; i++) {
                boolean last = i == tokens.length - 1;
                model.eval(tokens[i], state, last || logitsEveryStep ? logits : null);
            }
            return new float[][] {state.toArray(), logits.toArray()};
        }
    }

    private static void assertBitIdentical(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + ": differs at " + i + ": " + expected[i] + " vs " + actual[i]);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shippedFiles")
    void serialSequenceAndChunkedAgreeBitForBit(String name, Path file) {
        int[] tokens = TestData.byteTokens(HELLO);
        try (RwkvModel model = RwkvModel.load(file, twoThreads())) {
            float[][] expected = serial(model, tokens, true);
            try (RwkvState state = model.newState(); Logits logits = model.newLogits()) {
                model.evalSequence(tokens, state, logits);
                assertBitIdentical(expected[0], state.toArray(), name + " sequence state");
                assertBitIdentical(expected[1], logits.toArray(), name + " sequence logits");

                state.reset();
                model.evalSequence(tokens, 4, state, logits);
                assertBitIdentical(expected[0], state.toArray(), name + " chunked state");
                assertBitIdentical(expected[1], logits.toArray(), name + " chunked logits");

                state.reset();
                assertBitIdentical(expected[1], model.evalSequence(tokens, state), name + " float[] logits");
            }
        }
    }

    /** c-api.md §6.1, on 5v2 FP32 with 2 threads, plus chunk size 4. */
    @ParameterizedTest(name = "prompt of {0} bytes")
    @ValueSource(strings = {CHUNK_PROMPT, "T"})
    void chunkedEqualsSerialForEveryChunkSize(String prompt) {
        int[] tokens = TestData.byteTokens(prompt);
        try (RwkvModel model = RwkvModel.load(TestData.tiny("5v2-730K", "FP32"), twoThreads())) {
            float[][] expected = serial(model, tokens, true);
            try (RwkvState one = model.newState(); Logits oneLogits = model.newLogits()) {
                model.evalSequence(tokens, one, oneLogits);
                assertBitIdentical(expected[0], one.toArray(), "one sequence");
                for (int chunk : new int[] {1, 2, 4, 8, 10}) {
                    try (RwkvState state = model.newState(); Logits logits = model.newLogits()) {
                        model.evalSequence(tokens, chunk, state, logits);
                        assertBitIdentical(expected[0], state.toArray(), "chunk " + chunk + " state");
                        assertBitIdentical(oneLogits.toArray(), logits.toArray(), "chunk " + chunk + " logits");
                    }
                }
            }
        }
    }

    /** c-api.md §6.3: a null logits buffer skips the head and changes nothing else. */
    @Test
    void skippingLogitsLeavesTheStateBitIdentical() {
        int[] tokens = TestData.byteTokens(HELLO);
        try (RwkvModel model = RwkvModel.load(TestData.tiny("5v2-730K", "FP32"), twoThreads())) {
            float[] withLogits = serial(model, tokens, true)[0];
            try (RwkvState state = model.newState()) {
                for (int t : tokens) {
                    model.eval(t, state, null);
                }
                assertBitIdentical(withLogits, state.toArray(), "serial without logits");
            }
            try (RwkvState a = model.newState(); RwkvState b = model.newState(); Logits logits = model.newLogits()) {
                model.evalSequence(tokens, a, logits);
                model.evalSequence(tokens, b, null);
                assertBitIdentical(a.toArray(), b.toArray(), "sequence without logits");
                model.evalSequence(tokens, 3, b, null);
                model.evalSequence(tokens, 3, a, logits);
                assertBitIdentical(a.toArray(), b.toArray(), "chunked without logits");
            }
        }
    }

    /** c-api.md §6.2: a copy, used after the original is closed, gives the same logits. */
    @Test
    void copyOutlivesTheOriginalAndAgrees() {
        int[] tokens = TestData.byteTokens(HELLO);
        RwkvModel original = RwkvModel.load(TestData.tiny("5v2-730K", "FP32"), twoThreads());
        float[][] expected = serial(original, tokens, true);
        RwkvModel copy = original.copy();
        assertNotSame(original, copy);
        assertEquals(original.threads(), copy.threads());
        assertEquals(original.tensors(), copy.tensors());
        original.close();
        try (copy) {
            float[][] again = serial(copy, tokens, true);
            assertBitIdentical(expected[1], again[1], "copy logits");
            assertBitIdentical(expected[0], again[0], "copy state");
            try (RwkvModel copyOfCopy = copy.copy(1)) {
                assertEquals(1, copyOfCopy.threads());
                assertBitIdentical(expected[1], serial(copyOfCopy, tokens, true)[1], "copy of copy, 1 thread");
            }
        }
    }

    /** Copies evaluate concurrently on their own threads and agree with serial evaluation. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5v2-730K", "7v0-834K"})
    void concurrentCopiesAgreeWithSerialEvaluation(String version) throws Exception {
        int[] tokens = TestData.byteTokens(CHUNK_PROMPT);
        int workers = 4;
        try (RwkvModel model = RwkvModel.load(TestData.tiny(version, "FP16"), twoThreads())) {
            float[][] expected = serial(model, tokens, false);
            ExecutorService pool = Executors.newFixedThreadPool(workers);
            try {
                List<Future<float[][]>> results = new ArrayList<>();
                for (int w = 0; w < workers; w++) {
                    RwkvModel copy = model.copy(1 + w % 2);
                    boolean sequence = w % 2 == 0;
                    Callable<float[][]> job = () -> {
                        try (copy) {
                            float[][] last = null;
                            for (int round = 0; round < 5; round++) {
                                if (sequence) {
                                    try (RwkvState s = copy.newState(); Logits l = copy.newLogits()) {
                                        copy.evalSequence(tokens, s, l);
                                        last = new float[][] {s.toArray(), l.toArray()};
                                    }
                                } else {
                                    last = serial(copy, tokens, false);
                                }
                            }
                            return last;
                        }
                    };
                    results.add(pool.submit(job));
                }
                for (int w = 0; w < workers; w++) {
                    float[][] got = results.get(w).get();
                    assertBitIdentical(expected[0], got[0], "worker " + w + " state");
                    assertBitIdentical(expected[1], got[1], "worker " + w + " logits");
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void statesExportAndImportExactly(@TempDir Path dir) throws Exception {
        int[] tokens = TestData.byteTokens(HELLO);
        try (RwkvModel model = RwkvModel.load(TestData.tiny("7v0-834K", "FP32"), twoThreads());
             RwkvState state = model.newState()) {
            model.evalSequence(tokens, state, null);
            float[] values = state.toArray();

            byte[] bytes = state.exportBytes();
            assertEquals(36 + 4L * model.stateLength() + 4, bytes.length);
            Path file = dir.resolve("state.jrwkv");
            state.exportTo(file);
            assertArrayEquals(bytes, java.nio.file.Files.readAllBytes(file));

            try (RwkvState fromBytes = model.newState(); RwkvState fromFile = model.newState()) {
                fromBytes.importBytes(bytes);
                fromFile.importFrom(file);
                assertBitIdentical(values, fromBytes.toArray(), "imported from bytes");
                assertBitIdentical(values, fromFile.toArray(), "imported from file");

                // Continuing from an imported state = continuing from the original.
                float[] a = model.eval('!', state);
                float[] b = model.eval('!', fromFile);
                assertBitIdentical(a, b, "logits after import");
            }

            // A damaged or truncated file is refused and changes nothing.
            try (RwkvState target = model.newState()) {
                float[] fresh = target.toArray();
                byte[] damaged = bytes.clone();
                damaged[100] ^= 0x40;
                java.nio.file.Files.write(file, damaged);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> target.importFrom(file));
                assertTrue(e.getMessage().contains("checksum"), e.getMessage());
                java.nio.file.Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
                e = assertThrows(IllegalArgumentException.class, () -> target.importFrom(file));
                assertTrue(e.getMessage().contains("truncated"), e.getMessage());
                assertBitIdentical(fresh, target.toArray(), "state after refused imports");
            }
        }
    }

    /** 5v1 and 5v2 states have the same length and dimensions, but not the same architecture. */
    @Test
    void statesOfAnotherModelAreRefused() {
        try (RwkvModel v51 = RwkvModel.load(TestData.tiny("5v1-730K", "FP32"), twoThreads());
             RwkvModel v52 = RwkvModel.load(TestData.tiny("5v2-730K", "FP32"), twoThreads());
             RwkvModel v7 = RwkvModel.load(TestData.tiny("7v0-834K", "Q5_1"), twoThreads());
             RwkvState s51 = v51.newState();
             RwkvState s52 = v52.newState();
             RwkvState s7 = v7.newState()) {
            assertEquals(v51.stateLength(), v52.stateLength());
            byte[] exported = s51.exportBytes();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s52.importBytes(exported));
            assertTrue(e.getMessage().contains("belongs to another model"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s7.importBytes(exported));
            assertThrows(IllegalArgumentException.class, () -> v52.eval(1, s51));
            assertThrows(IllegalArgumentException.class, () -> s52.copyFrom(s51));

            // The same model file, loaded twice, shares the shape.
            try (RwkvModel again = RwkvModel.load(TestData.tiny("5v2-730K", "Q5_0"), twoThreads());
                 RwkvState other = again.newState()) {
                v52.eval(7, s52, null);
                other.importBytes(s52.exportBytes());
                assertBitIdentical(s52.toArray(), other.toArray(), "state moved between files of one model");
                other.reset();
                other.copyFrom(s52);
                assertBitIdentical(s52.toArray(), other.toArray(), "copyFrom");
                RwkvState copy = s52.copy();
                try (copy) {
                    assertBitIdentical(s52.toArray(), copy.toArray(), "copy");
                }
            }
        }
    }

    @Test
    void resetRestoresTheInitialState() {
        try (RwkvModel v4 = RwkvModel.load(TestData.tiny("4v0-660K", "FP32"), twoThreads());
             RwkvState state = v4.newState()) {
            float[] initial = state.toArray();
            // v4: the 5th vector of each layer (att_pp) starts at -1e30, everything else at 0.
            long minusBig = 0;
            for (float f : initial) {
                if (f == -1e30f) {
                    minusBig++;
                } else {
                    assertEquals(0f, f);
                }
            }
            assertEquals((long) v4.embeddingSize() * v4.layerCount(), minusBig);
            v4.evalSequence(TestData.byteTokens(HELLO), state, null);
            state.reset();
            assertBitIdentical(initial, state.toArray(), "after reset");
            state.fromArray(initial);
            assertBitIdentical(initial, state.toArray(), "fromArray");
        }
    }
}
