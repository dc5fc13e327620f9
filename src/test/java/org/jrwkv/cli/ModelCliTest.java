package org.jrwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jrwkv.TestData;
import org.jrwkv.convert.Fixtures;
import org.jrwkv.models.LocalHub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code convert}, {@code models} and {@code pull} through the CLI: output and one-line errors. */
class ModelCliTest {

    @TempDir
    Path dir;

    @Test
    void convertWritesTheModelAndSaysWhat() {
        Path out = dir.resolve("m.bin");
        CliTest.Run r = CliTest.run("convert", Fixtures.pth("tiny-rwkv-7v0-834K.pth").toString(), out.toString(),
                "--dtype", "FP32");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("RWKV v7, n_vocab 256, n_embed 64, n_layer 12, 339 tensors, FP32"), r.out());
        assertEquals("0dce48ebe81873c1cfd6383bb4f4b259ff123b228e0c7d264ed6b1a2d547dd86", Fixtures.sha256(out));
    }

    @Test
    void convertErrorsAreOneLineAndLeaveNothing() {
        Path out = dir.resolve("m.bin");
        CliTest.run("convert", Fixtures.pth("hostile-os-system.pth").toString(), out.toString())
                .assertOneErrorLine(Main.EXIT_FAILURE, "refused pickle global os.system");
        CliTest.run("convert", Fixtures.pth("tiny-rwkv-7v0-834K.pth").toString(), out.toString(), "--dtype", "q5_1")
                .assertOneErrorLine(Main.EXIT_FAILURE, "unknown --dtype 'q5_1'; choose fp16 or fp32");
        CliTest.run("convert", dir.resolve("absent.pth").toString(), out.toString())
                .assertOneErrorLine(Main.EXIT_FAILURE, "no such file");
        CliTest.run("convert", "only-one-argument").assertOneErrorLine(Main.EXIT_USAGE, "Missing required parameter");
        assertEquals(java.util.List.of(), Fixtures.listing(dir));
    }

    private Path servedCatalog(LocalHub hub) throws IOException {
        hub.file("/jrwkv/tiny/resolve/main/tiny-rwkv-7v0-834K.pth",
                Files.readAllBytes(Fixtures.pth("tiny-rwkv-7v0-834K.pth")));
        hub.file("/raw/rwkv_vocab_v20230424.txt",
                Files.readAllBytes(TestData.dir().resolve("tokenizers/rwkv_vocab_v20230424.txt")));
        Path catalog = dir.resolve("catalog.json");
        Files.writeString(catalog, org.jrwkv.models.ModelStoreTestAccess.catalogJson(hub,
                "c30c860edc75c41956da23bd63834aea62421e9d6e3f84aca502a92fcb0c37ed"));
        return catalog;
    }

    @Test
    void pullAndModels() throws IOException {
        try (LocalHub hub = new LocalHub()) {
            Path catalog = servedCatalog(hub);
            Path home = dir.resolve("home");
            CliTest.Run r = CliTest.run("pull", "tiny7", "--quantize", "q5_1", "--catalog", catalog.toString(),
                    "--home", home.toString(), "--endpoint", hub.base().toString());
            assertEquals(0, r.code(), r.err());
            Path q = home.resolve("models/tiny7/tiny7-Q5_1.bin");
            assertTrue(r.out().contains("tiny7: " + q), r.out());
            assertTrue(Files.isRegularFile(q));
            r = CliTest.run("models", "--catalog", catalog.toString(), "--home", home.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().matches("(?s).*\\ntiny7 +7 +test +834K .* known +FP16,Q5_1\\n.*"), r.out());
        }
    }

    @Test
    void pullErrorsAreOneLine() throws IOException {
        try (LocalHub hub = new LocalHub()) {
            Path catalog = servedCatalog(hub);
            Path home = dir.resolve("home");
            CliTest.run("pull", "nope", "--catalog", catalog.toString(), "--home", home.toString())
                    .assertOneErrorLine(Main.EXIT_FAILURE, "unknown model 'nope' (known: tiny7;");
            CliTest.run("pull", "tiny7", "--quantize", "FP16", "--catalog", catalog.toString(), "--home", home.toString())
                    .assertOneErrorLine(Main.EXIT_FAILURE, "--quantize takes Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0, not FP16");
            // A mirror that lacks the file.
            try (LocalHub empty = new LocalHub()) {
                empty.file("/raw/rwkv_vocab_v20230424.txt",
                        Files.readAllBytes(TestData.dir().resolve("tokenizers/rwkv_vocab_v20230424.txt")));
                CliTest.run("pull", "tiny7", "--catalog", catalog.toString(), "--home", home.toString(),
                        "--endpoint", empty.base().toString())
                        .assertOneErrorLine(Main.EXIT_FAILURE, "not found (HTTP 404): " + empty.base()
                                + "/jrwkv/tiny/resolve/main/tiny-rwkv-7v0-834K.pth");
            }
            assertFalse(Files.exists(home.resolve("models/tiny7/tiny7-FP16.bin")));
        }
    }

    @Test
    void runPullsACatalogModelWhenMissingAndAcceptsAFile() throws Exception {
        try (LocalHub hub = new LocalHub()) {
            Path catalog = servedCatalog(hub);
            Path home = dir.resolve("home");
            RunCommand run = new RunCommand();
            new picocli.CommandLine(run).parseArgs("tiny7", "--catalog", catalog.toString(), "--home", home.toString(),
                    "--endpoint", hub.base().toString());
            RunCommand.Target t = run.resolve();
            assertEquals(home.resolve("models/tiny7/tiny7-Q5_1.bin"), t.model(), "Q5_1 by default");
            assertEquals(home.resolve("tokenizers/rwkv_vocab_v20230424.txt"), t.tokenizer());
            int requests = hub.requests().size();
            assertEquals(t, run.resolve(), "cached the second time");
            assertEquals(requests, hub.requests().size());

            // A local file of a byte-level model: no tokenizer needed.
            RunCommand local = new RunCommand();
            Path tiny = TestData.tiny("7v0-834K", "Q5_1");
            new picocli.CommandLine(local).parseArgs(tiny.toString(), "--home", home.toString());
            assertEquals(new RunCommand.Target(tiny, null), local.resolve());
        }
        CliTest.run("run", dir.resolve("absent.bin").toString())
                .assertOneErrorLine(Main.EXIT_FAILURE, "no such model file: " + dir.resolve("absent.bin"));
    }
}
