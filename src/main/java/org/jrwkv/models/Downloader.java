package org.jrwkv.models;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jrwkv.ProgressListener;
import org.jrwkv.internal.FileCache;

/**
 * Downloads one file over HTTP(S) into place, safely:
 * <ul>
 *   <li>bytes go to {@code TARGET.part}; an interrupted download (dropped connection, or a previous
 *       run that was stopped) resumes from where the {@code .part} file ends with a {@code Range}
 *       request;</li>
 *   <li>when complete, the size and SHA-256 are checked (when known) before the file is renamed to
 *       its final name: a wrong file is deleted, never cached;</li>
 *   <li>redirects are followed (Hugging Face redirects to a CDN), but the {@code HF_TOKEN} bearer
 *       header goes only to the endpoint's own host;</li>
 *   <li>404, 401/403 and network failures give one clear message naming the URL.</li>
 * </ul>
 */
public final class Downloader {

    private static final int MAX_REDIRECTS = 10;
    private static final int MAX_ATTEMPTS = 5;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final HubSettings hub;
    private final HttpClient client;

    /**
     * Creates a downloader.
     *
     * @param hub the endpoint and token
     */
    public Downloader(HubSettings hub) {
        this.hub = hub;
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /**
     * Downloads {@code url} to {@code target}.
     *
     * @param url       the file
     * @param target    where it goes (its folder must exist); replaced if present
     * @param sha256    expected SHA-256 (lowercase hex), or null to skip the check
     * @param size      expected size in bytes, or null to skip the check
     * @param progress  receives the bytes received
     * @throws DownloadException if the server refuses, the network fails repeatedly, or the file is
     *                           not the expected one (the partial file is kept for resuming in the
     *                           first two cases and deleted in the last)
     * @throws IOException       if writing fails
     */
    public void download(URI url, Path target, String sha256, Long size, ProgressListener progress) throws IOException {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        if (size != null && Files.exists(part) && Files.size(part) > size) {
            Files.delete(part);
        }
        progress.start("download " + target.getFileName(), size == null ? -1 : size);
        MessageDigest digest;
        try {
            int failures = 0;
            while (true) {
                long have = Files.exists(part) ? Files.size(part) : 0;
                digest = sha256Of(part);
                if (size != null && have == size) {
                    break;
                }
                try {
                    if (fetch(url, part, have, digest, progress)) {
                        break;
                    }
                } catch (Interrupted e) {
                    failures++;
                    if (failures >= MAX_ATTEMPTS) {
                        throw new DownloadException("download of " + url + " failed " + failures + " times ("
                                + e.getCause().getMessage() + "); run again to resume from "
                                + Files.size(part) + " bytes", e.getCause());
                    }
                }
            }
        } finally {
            progress.finish();
        }
        long got = Files.size(part);
        if (size != null && got != size) {
            Files.delete(part);
            throw new DownloadException(url + ": received " + got + " bytes, expected " + size + "; nothing was saved");
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        if (sha256 != null && !sha256.equals(actual)) {
            Files.delete(part);
            throw new DownloadException(url + ": SHA-256 mismatch (expected " + sha256 + ", got " + actual
                    + "); the download was deleted and nothing was saved");
        }
        try {
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
        }
        FileCache.dropCachedPages(target);
    }

    /** A transfer that broke off; the caller resumes. */
    private static final class Interrupted extends Exception {
        private static final long serialVersionUID = 1L;

        Interrupted(IOException cause) {
            super(cause);
        }
    }

    /**
     * One request from byte {@code have}. Returns true when the body was received to its end, false
     * when the transfer must start over (the server ignored the range).
     */
    private boolean fetch(URI url, Path part, long have, MessageDigest digest, ProgressListener progress)
            throws IOException, Interrupted {
        HttpResponse<InputStream> response = send(url, have);
        int status = response.statusCode();
        try (InputStream body = response.body()) {
            boolean append;
            if (status == 206) {
                Matcher m = CONTENT_RANGE.matcher(response.headers().firstValue("Content-Range").orElse(""));
                if (!m.matches() || Long.parseLong(m.group(1)) != have) {
                    throw new DownloadException(url + ": the server answered a range request with the wrong range");
                }
                append = true;
            } else if (status == 200) {
                append = false; // the whole file (the server ignored the range, or there was none)
            } else if (status == 416 && have > 0) {
                return true; // nothing left to fetch: the size and checksum checks decide
            } else {
                throw new DownloadException(describe(status, url));
            }
            if (!append && have > 0) {
                digest.reset();
            }
            long done = append ? have : 0;
            progress.update(done);
            try (FileChannel channel = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
                    OutputStream out = Channels.newOutputStream(channel)) {
                byte[] buffer = new byte[1 << 16];
                while (true) {
                    int n;
                    try {
                        n = body.read(buffer);
                    } catch (IOException e) {
                        throw new Interrupted(e);
                    }
                    if (n < 0) {
                        break;
                    }
                    out.write(buffer, 0, n);
                    digest.update(buffer, 0, n);
                    done += n;
                    progress.update(done);
                }
            }
            Optional<String> length = response.headers().firstValue("Content-Length");
            if (length.isPresent() && done - (append ? have : 0) < Long.parseLong(length.get())) {
                throw new Interrupted(new IOException("connection closed early"));
            }
            return true;
        }
    }

    private HttpResponse<InputStream> send(URI url, long from) throws IOException, Interrupted {
        URI current = url;
        for (int i = 0; i <= MAX_REDIRECTS; i++) {
            HttpRequest.Builder request = HttpRequest.newBuilder(current).GET()
                    .header("User-Agent", "jrwkv");
            if (from > 0) {
                request.header("Range", "bytes=" + from + "-");
            }
            if (hub.token() != null && hub.isEndpointHost(current)) {
                request.header("Authorization", "Bearer " + hub.token());
            }
            HttpResponse<InputStream> response;
            try {
                response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (ConnectException e) {
                throw new DownloadException("cannot connect to " + current.getHost() + " (" + current + ")"
                        + (e.getMessage() == null ? "" : ": " + e.getMessage()), e);
            } catch (HttpTimeoutException e) {
                throw new DownloadException("timed out connecting to " + current.getHost() + " (" + current + ")", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DownloadException("download of " + url + " interrupted", null);
            } catch (IOException e) {
                throw new Interrupted(e);
            }
            int status = response.statusCode();
            if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                response.body().close();
                String location = response.headers().firstValue("Location").orElseThrow(
                        () -> new DownloadException(url + ": redirect without a Location"));
                current = current.resolve(location);
                continue;
            }
            return response;
        }
        throw new DownloadException(url + ": too many redirects");
    }

    private String describe(int status, URI url) {
        switch (status) {
            case 404:
                return "not found (HTTP 404): " + url;
            case 401:
            case 403:
                return "access denied (HTTP " + status + "): " + url + (hub.token() == null
                        ? "; set HF_TOKEN to a Hugging Face access token that can read this repository"
                        : "; the token in HF_TOKEN cannot read this repository");
            default:
                return "HTTP " + status + " from " + url;
        }
    }

    /** A digest primed with the bytes of an existing partial file. */
    private static MessageDigest sha256Of(Path part) throws IOException {
        MessageDigest digest = newDigest();
        if (Files.exists(part)) {
            try (InputStream in = new DigestInputStream(Files.newInputStream(part), digest)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
        }
        return digest;
    }

    /**
     * The SHA-256 of a file, lowercase hex.
     *
     * @throws IOException if reading fails
     */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest = newDigest();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
