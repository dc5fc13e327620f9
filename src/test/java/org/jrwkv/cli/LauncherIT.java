package org.jrwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jrwkv.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real launcher, {@code tools/jrwkv}, on the packaged CLI jar (runs after {@code package}),
 * started from another directory as a user would.
 */
class LauncherIT {

    @TempDir
    Path cwd;

    record Result(int code, String out, String err) {
    }

    private Result jrwkv(String... args) throws IOException, InterruptedException {
        Path launcher = Path.of(System.getProperty("jrwkv.basedir", "."), "tools", "jrwkv").toAbsolutePath();
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        Path out = cwd.resolve("stdout.txt");
        Path err = cwd.resolve("stderr.txt");
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("JRWKV_NO_BUILD", "1");
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "launcher timed out");
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void runsTheCliJarFromAnyDirectory() throws Exception {
        Result version = jrwkv("--version");
        assertEquals(0, version.code(), version.err());
        assertTrue(version.out().startsWith("jrwkv "), version.out());

        Path logits = cwd.resolve("logits.bin");
        Result run = jrwkv("logits", "--model", TestData.tiny("7v0-834K", "FP32").toString(), "--text", "hello",
                "--out", "logits.bin");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("top 5"), run.out());
        assertEquals(1024, Files.size(logits));
    }

    @Test
    void cliJarCarriesTheBuiltLibraryWithItsTime() throws IOException {
        // JavaCPP reuses an extracted library when size and entry time match, so the entry must
        // carry the real file's time: a fixed time would keep a stale library after a rebuild.
        Path basedir = Path.of(System.getProperty("jrwkv.basedir", "."));
        Path jar;
        try (var jars = Files.list(basedir.resolve("target"))) {
            jar = jars.filter(f -> f.getFileName().toString().endsWith("-cli.jar")).findFirst().orElseThrow();
        }
        String platform = org.bytedeco.javacpp.Loader.getPlatform();
        String name = "org/jrwkv/internal/" + platform + "/" + System.mapLibraryName("jniRwkvNative");
        Path built = basedir.resolve("target/classes").resolve(name);
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
            java.util.zip.ZipEntry entry = zip.getEntry(name);
            assertTrue(entry != null, name + " missing from " + jar);
            assertEquals(Files.size(built), entry.getSize());
            long builtMillis = Files.getLastModifiedTime(built).toMillis();
            assertTrue(Math.abs(entry.getTime() - builtMillis) <= 2000,
                    "entry time " + entry.getTime() + " vs file time " + builtMillis);
        }
    }

    @Test
    void badInputExitsNonZeroWithOneLine() throws Exception {
        Result r = jrwkv("info", "no-such-model.bin");
        assertEquals(1, r.code());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("jrwkv: error: Cannot load model no-such-model.bin: cannot open the file"),
                r.err());
        Result usage = jrwkv("quantize", "a");
        assertEquals(2, usage.code());
        assertEquals(1, usage.err().lines().count(), usage.err());
        assertTrue(usage.err().startsWith("jrwkv: error: Missing required parameters"), usage.err());
    }
}
