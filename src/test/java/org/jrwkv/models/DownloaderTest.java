package org.jrwkv.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.jrwkv.ProgressListener;
import org.jrwkv.convert.Fixtures;
import org.jrwkv.internal.PageCacheProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads against a local server: resume after a dropped connection, checksums, errors, the token. */
class DownloaderTest {

    @TempDir
    Path dir;

    LocalHub hub;
    byte[] data;
    String sha;

    @BeforeEach
    void start() throws IOException {
        hub = new LocalHub();
        data = new byte[300_000];
        new Random(7).nextBytes(data);
        Path tmp = dir.resolve("source");
        Files.write(tmp, data);
        sha = Downloader.sha256(tmp);
        Files.delete(tmp);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private Downloader downloader(String token) {
        return new Downloader(new HubSettings(hub.base(), token));
    }

    private URI url(String path) {
        return hub.base().resolve(path);
    }

    @Test
    void aDroppedConnectionIsResumedWithARangeRequest() throws IOException {
        hub.file("/f.bin", data).dropOnceAfter("/f.bin", 100_000);
        Path target = dir.resolve("f.bin");
        downloader(null).download(url("/f.bin"), target, sha, (long) data.length, ProgressListener.NONE);
        assertArrayEquals(data, Files.readAllBytes(target));
        assertEquals(List.of("f.bin"), Fixtures.listing(dir), "no .part left");
        List<LocalHub.Request> requests = hub.requests();
        assertEquals(2, requests.size(), requests.toString());
        assertNull(requests.get(0).range());
        assertTrue(requests.get(1).range().matches("bytes=\\d+-"), requests.toString());
        long resumedAt = Long.parseLong(requests.get(1).range().replaceAll("\\D", ""));
        // The server sent 100 000 bytes before cutting the connection; a cut can discard some that
        // were in flight, so the client resumes after what it really received: some, at most that.
        assertTrue(resumedAt > 0 && resumedAt <= 100_000, "resumed at " + resumedAt);
    }

    /** A finished download leaves the page cache, so it is first mapped in 2 MiB pages (FileCache). */
    @Test
    void aFinishedDownloadIsNotLeftInThePageCache() throws IOException {
        assumeTrue(PageCacheProbe.canMeasure(dir), "needs Linux and a disk-backed temporary folder");
        hub.file("/f.bin", data);
        Path target = dir.resolve("f.bin");
        downloader(null).download(url("/f.bin"), target, sha, (long) data.length, ProgressListener.NONE);
        Path control = Files.write(dir.resolve("control.bin"), data);
        assertTrue(PageCacheProbe.fullyCached(control), "a file just written should be cached");
        assertFalse(PageCacheProbe.fullyCached(target));
        assertArrayEquals(data, Files.readAllBytes(target));
    }

    @Test
    void aPartialFileFromAnEarlierRunIsResumed() throws IOException {
        hub.file("/f.bin", data);
        Path target = dir.resolve("f.bin");
        Files.write(dir.resolve("f.bin.part"), java.util.Arrays.copyOf(data, 123_456));
        downloader(null).download(url("/f.bin"), target, sha, null, ProgressListener.NONE);
        assertArrayEquals(data, Files.readAllBytes(target));
        assertEquals("bytes=123456-", hub.requests().get(0).range());
    }

    @Test
    void aWrongChecksumIsRefusedAndNothingIsKept() {
        hub.file("/f.bin", data).dropOnceAfter("/f.bin", 50_000);
        Path target = dir.resolve("f.bin");
        String wrong = "0".repeat(64);
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(null).download(url("/f.bin"), target, wrong, null, ProgressListener.NONE));
        assertTrue(e.getMessage().contains("SHA-256 mismatch (expected " + wrong + ", got " + sha + ")"), e.getMessage());
        assertEquals(List.of(), Fixtures.listing(dir), "neither the file nor the .part remains");
    }

    @Test
    void aWrongSizeIsRefused() {
        hub.file("/f.bin", data);
        DownloadException e = assertThrows(DownloadException.class, () -> downloader(null)
                .download(url("/f.bin"), dir.resolve("f.bin"), null, 1000L + data.length, ProgressListener.NONE));
        assertTrue(e.getMessage().contains("received 300000 bytes, expected 301000"), e.getMessage());
        assertEquals(List.of(), Fixtures.listing(dir));
    }

    @Test
    void httpErrorsAreNamed() {
        hub.status("/private.bin", 401);
        DownloadException e = assertThrows(DownloadException.class, () -> downloader(null)
                .download(url("/missing.bin"), dir.resolve("x"), null, null, ProgressListener.NONE));
        assertTrue(e.getMessage().startsWith("not found (HTTP 404): " + url("/missing.bin")), e.getMessage());
        e = assertThrows(DownloadException.class, () -> downloader(null)
                .download(url("/private.bin"), dir.resolve("x"), null, null, ProgressListener.NONE));
        assertTrue(e.getMessage().contains("access denied (HTTP 401)") && e.getMessage().contains("set HF_TOKEN"),
                e.getMessage());
        assertEquals(List.of(), Fixtures.listing(dir));
    }

    @Test
    void anUnreachableHostIsAClearError() throws IOException {
        URI closed;
        try (LocalHub other = new LocalHub()) {
            closed = other.base().resolve("/f.bin");
        }
        DownloadException e = assertThrows(DownloadException.class, () -> downloader(null)
                .download(closed, dir.resolve("x"), null, null, ProgressListener.NONE));
        assertTrue(e.getMessage().startsWith("cannot connect to 127.0.0.1"), e.getMessage());
    }

    @Test
    void theTokenGoesToTheEndpointOnlyAndRedirectsAreFollowed() throws IOException {
        try (LocalHub cdn = new LocalHub()) {
            cdn.file("/blob", data);
            hub.redirect("/org/repo/resolve/main/f.bin", cdn.base().resolve("/blob").toString());
            Path target = dir.resolve("f.bin");
            downloader("secret").download(url("/org/repo/resolve/main/f.bin"), target, sha, null, ProgressListener.NONE);
            assertArrayEquals(data, Files.readAllBytes(target));
            assertEquals("Bearer secret", hub.requests().get(0).authorization());
            assertNull(cdn.requests().get(0).authorization(), "no token for another host");
        }
    }

    @Test
    void hubSettingsFollowTheHuggingFaceVariables() {
        HubSettings s = HubSettings.fromEnvironment(java.util.Map.of("HF_ENDPOINT", "https://hf-mirror.example/",
                "HF_TOKEN", " hf_abc "));
        assertEquals("https://hf-mirror.example/", s.endpoint().toString());
        assertEquals("hf_abc", s.token());
        assertFalse(s.toString().contains("hf_abc"), "the token is not printed");
        assertEquals(HubSettings.DEFAULT_ENDPOINT, HubSettings.fromEnvironment(java.util.Map.of()).endpoint());
        assertEquals("old", HubSettings.fromEnvironment(java.util.Map.of("HUGGING_FACE_HUB_TOKEN", "old")).token());
    }
}
