package org.jrwkv.models;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.jrwkv.Architecture;

/**
 * A model of the catalog: a PyTorch checkpoint published on Hugging Face.
 *
 * @param name         the name users type, e.g. {@code rwkv7-world-0.4b}
 * @param architecture the RWKV architecture
 * @param family       the training data or fine-tune, e.g. {@code World}, {@code Pile}, {@code Raven}
 * @param parameters   the size as people say it, e.g. {@code 0.4B}
 * @param repo         the Hugging Face repository, e.g. {@code BlinkDL/rwkv-7-world}
 * @param revision     the branch, tag or commit, e.g. {@code main}
 * @param file         the checkpoint's file name in the repository
 * @param sizeBytes    the checkpoint's exact size in bytes, or null if unknown
 * @param approxSize   the size for display, e.g. {@code 902 MB}
 * @param sha256       the checkpoint's SHA-256 (lowercase hex), or null if unknown (then only the
 *                     size, when known, and the checkpoint's own consistency are checked)
 * @param tokenizer    the key of its tokenizer in the catalog
 * @param description  one line for people
 */
public record ModelEntry(String name, Architecture architecture, String family, String parameters, String repo,
        String revision, String file, Long sizeBytes, String approxSize, String sha256, String tokenizer,
        String description) {

    /** Checks the components. */
    public ModelEntry {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[a-z0-9][a-z0-9._-]*")) {
            throw new IllegalArgumentException("model name '" + name + "' must be lowercase letters, digits, '.', '_' or '-'");
        }
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(repo, "repo");
        if (!repo.matches("[A-Za-z0-9._-]+/[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("repository '" + repo + "' is not owner/name");
        }
        revision = revision == null ? "main" : revision;
        checkFileName(file);
        checkSha256(sha256);
        Objects.requireNonNull(tokenizer, "tokenizer");
    }

    static void checkFileName(String file) {
        Objects.requireNonNull(file, "file");
        if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.equals(".") || file.equals("..")) {
            throw new IllegalArgumentException("'" + file + "' is not a plain file name");
        }
    }

    static void checkSha256(String sha256) {
        if (sha256 != null && !sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("'" + sha256 + "' is not a lowercase hex SHA-256");
        }
    }

    /** The download URL on the given Hugging Face endpoint: {@code ENDPOINT/REPO/resolve/REVISION/FILE}. */
    public URI url(URI endpoint) {
        String base = endpoint.toString().replaceAll("/+$", "");
        return URI.create(base + "/" + repo + "/resolve/" + encode(revision) + "/" + encode(file));
    }

    /** The download URL on huggingface.co. */
    public URI sourceUrl() {
        return url(HubSettings.DEFAULT_ENDPOINT);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
