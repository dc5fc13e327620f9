package org.jrwkv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jrwkv.ModelOptions;
import org.jrwkv.Rwkv;
import org.jrwkv.RwkvModel;
import org.jrwkv.RwkvState;
import org.jrwkv.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI in-process, through picocli, with captured streams. */
class CliTest {

    /** Output of one run. */
    record Run(int code, String out, String err) {
        void assertOneErrorLine(int expectedCode, String fragment) {
            assertEquals(expectedCode, code, err);
            String[] lines = err.split("\n");
            assertEquals(1, lines.length, "expected exactly one line on stderr:\n" + err);
            assertTrue(lines[0].startsWith("jrwkv: error: "), lines[0]);
            assertTrue(lines[0].contains(fragment), lines[0]);
            assertFalse(err.contains("\tat "), "no stack trace without --debug");
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    @TempDir
    Path dir;

    @Test
    void info() {
        Path model = TestData.tiny("5v2-730K", "Q5_1");
        Run r = run("info", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("file version  101"), r.out());
        assertTrue(r.out().contains("data type     Q5_1 (header code 8)"), r.out());
        assertTrue(r.out().contains("architecture  RWKV v5.2"), r.out());
        assertTrue(r.out().contains("n_vocab       256"), r.out());
        assertTrue(r.out().contains("n_layer       12"), r.out());
        assertTrue(r.out().contains("heads         8 x 8"), r.out());
        assertTrue(r.out().contains("state length  7680 floats"), r.out());
        assertTrue(r.out().contains("tensors       270"), r.out());
        assertTrue(r.out().matches("(?s).*\\nblocks\\.0\\.att\\.key\\.weight +Q5_1 +64 x 64 +3,072\\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  Q5_1 +96 tensors .*"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  FP32 +174 tensors .*"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void logitsInBothModesMatchTheApiAndAreWrittenRaw() throws IOException {
        Path model = TestData.tiny("7v0-834K", "FP32");
        float[] expected;
        try (RwkvModel m = RwkvModel.load(model, new ModelOptions(1, 0)); RwkvState s = m.newState()) {
            expected = m.evalSequence(TestData.byteTokens("hello"), s);
        }
        for (String mode : new String[] {"serial", "sequence"}) {
            Path out = dir.resolve("logits-" + mode + ".bin");
            Run r = run("logits", "--model", model.toString(), "--text", "hello", "--mode", mode, "--threads", "2",
                    "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("tokens   5 (UTF-8 bytes of the text)"), r.out());
            assertTrue(r.out().contains("mode     " + mode + ", 2 threads"), r.out());
            assertTrue(r.out().contains("top 5"), r.out());
            assertTrue(r.out().contains("  5. token"), r.out());
            assertTrue(r.out().contains("written to " + out), r.out());
            assertEquals(1024, Files.size(out));
            assertArrayEquals(expected, TestData.floats(Files.readAllBytes(out)), mode);
            // The top token is the argmax.
            int best = 0;
            for (int i = 1; i < expected.length; i++) {
                if (expected[i] > expected[best]) {
                    best = i;
                }
            }
            assertTrue(r.out().contains(String.format("  1. token %3d", best)), r.out());
        }
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary files left");
        }
    }

    @Test
    void quantize() throws IOException {
        Path out = dir.resolve("q.bin");
        Run r = run("quantize", TestData.tiny("4v0-660K", "FP32").toString(), out.toString(), "Q5_1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("quantized "), r.out());
        assertEquals(-1L, Files.mismatch(out, TestData.tiny("4v0-660K", "Q5_1")));
    }

    @Test
    void badInputGivesOneErrorLine() throws IOException {
        Path missing = dir.resolve("missing.bin");
        run("info", missing.toString()).assertOneErrorLine(1, "Cannot load model " + missing + ": cannot open the file");

        Path corrupt = dir.resolve("corrupt.bin");
        Files.write(corrupt, java.util.Arrays.copyOf(Files.readAllBytes(TestData.tiny("5v2-730K", "FP16")), 1000));
        run("info", corrupt.toString()).assertOneErrorLine(1, "file is truncated or unreadable (error 0x404");
        run("logits", "--model", corrupt.toString(), "--text", "x").assertOneErrorLine(1, "error 0x404");

        Path out = dir.resolve("never.bin");
        run("quantize", TestData.tiny("5v2-730K", "FP32").toString(), out.toString(), "q5_1")
                .assertOneErrorLine(1, "unknown format 'q5_1'; choose one of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0");
        run("quantize", TestData.tiny("5v2-730K", "FP32").toString(), out.toString(), "FP16")
                .assertOneErrorLine(1, "unknown format 'FP16'");
        run("quantize", corrupt.toString(), out.toString(), "Q8_0").assertOneErrorLine(1, "Cannot quantize");
        assertFalse(Files.exists(out));

        run("logits", "--model", TestData.tiny("5v2-730K", "FP32").toString(), "--text", "")
                .assertOneErrorLine(1, "--text must not be empty");
        run("logits", "--model", TestData.tiny("5v2-730K", "FP32").toString(), "--text", "x", "--threads", "0")
                .assertOneErrorLine(1, "threads must be at least 1");
        run("logits", "--model", "m.bin", "--text", "x", "--mode", "parallel")
                .assertOneErrorLine(2, "--mode");
        run("logits", "--text", "x").assertOneErrorLine(2, "--model");
        run("info", "--frobnicate", "x").assertOneErrorLine(2, "--frobnicate");
        run("info").assertOneErrorLine(2, "MODEL");
        run("nonsense").assertOneErrorLine(2, "nonsense");
        run().assertOneErrorLine(2, "missing command");
    }

    @Test
    void debugPrintsTheStackTrace() {
        Run r = run("--debug", "info", dir.resolve("missing.bin").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("jrwkv: error: Cannot load model"), r.err());
        assertTrue(r.err().contains("\tat org.jrwkv.RwkvModel.load"), r.err());
        System.clearProperty(org.jrwkv.internal.NativeLib.PRINT_NATIVE_ERRORS);
    }

    @Test
    void helpAndVersion() {
        Run help = run("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("info") && help.out().contains("logits") && help.out().contains("quantize"),
                help.out());
        Run logitsHelp = run("logits", "--help");
        assertEquals(0, logitsHelp.code());
        assertTrue(logitsHelp.out().contains("--mode"), logitsHelp.out());
        Run version = run("--version");
        assertEquals(0, version.code());
        assertEquals("jrwkv " + Rwkv.version(), version.out().trim());
        assertFalse(Rwkv.version().contains("${"), "version resource is filtered");
    }
}
