package org.jrwkv.models;

import java.net.URI;
import java.util.Objects;

/**
 * A tokenizer file of the catalog.
 *
 * @param name      its key in the catalog, e.g. {@code world} or {@code neox}
 * @param kind      {@code world} (the RWKV World vocabulary) or {@code neox} (GPT-NeoX-20B
 *                  {@code tokenizer.json})
 * @param file      the file name it is cached under
 * @param url       where it is downloaded from
 * @param sha256    its SHA-256 (lowercase hex), or null if unknown
 * @param sizeBytes its size in bytes, or null if unknown
 */
public record TokenizerEntry(String name, String kind, String file, URI url, String sha256, Long sizeBytes) {

    /** Checks the components. */
    public TokenizerEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        ModelEntry.checkFileName(file);
        Objects.requireNonNull(url, "url");
        ModelEntry.checkSha256(sha256);
    }
}
