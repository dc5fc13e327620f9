package org.jrwkv.models;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jrwkv.Architecture;

/**
 * The known models and their tokenizers, read from JSON ({@code models/catalog.json} in the
 * repository, built into the jar). Format:
 *
 * <pre>{@code
 * {"tokenizers": {"world": {"kind": "world", "file": "...", "url": "...", "sha256": "..." | null, "sizeBytes": N | null}},
 *  "models": [{"name": "rwkv7-world-0.4b", "architecture": "7", "family": "World", "parameters": "0.4B",
 *              "repo": "BlinkDL/rwkv-7-world", "revision": "main", "file": "....pth",
 *              "sizeBytes": N | null, "approxSize": "902 MB", "sha256": "..." | null,
 *              "tokenizer": "world", "description": "..."}]}
 * }</pre>
 */
public final class ModelCatalog {

    private static final String RESOURCE = "/org/jrwkv/models/catalog.json";

    private final List<ModelEntry> models;
    private final Map<String, TokenizerEntry> tokenizers;

    private ModelCatalog(List<ModelEntry> models, Map<String, TokenizerEntry> tokenizers) {
        this.models = models;
        this.tokenizers = tokenizers;
    }

    /** The catalog built into jrwkv. */
    public static ModelCatalog builtIn() {
        try (InputStream in = ModelCatalog.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the built-in model catalog " + RESOURCE + " is missing from the classpath");
            }
            return read(in, "built-in catalog");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads a catalog file.
     *
     * @throws IOException if it cannot be read or is not a valid catalog
     */
    public static ModelCatalog read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /**
     * Reads a catalog.
     *
     * @param in     the JSON
     * @param source a name for messages
     * @throws IOException if it cannot be read or is not a valid catalog
     */
    public static ModelCatalog read(InputStream in, String source) throws IOException {
        JsonNode root = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).readTree(in);
        try {
            Map<String, TokenizerEntry> tokenizers = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.path("tokenizers").properties().iterator(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode t = e.getValue();
                tokenizers.put(e.getKey(), new TokenizerEntry(e.getKey(), text(t, "kind"), text(t, "file"),
                        URI.create(text(t, "url")), optText(t, "sha256"), optLong(t, "sizeBytes")));
            }
            List<ModelEntry> models = new ArrayList<>();
            Map<String, Boolean> names = new LinkedHashMap<>();
            for (JsonNode m : root.path("models")) {
                String arch = text(m, "architecture");
                Architecture architecture = null;
                for (Architecture a : Architecture.values()) {
                    if (a.version().equals(arch)) {
                        architecture = a;
                    }
                }
                if (architecture == null) {
                    throw new IllegalArgumentException("unknown architecture '" + arch + "'");
                }
                ModelEntry entry = new ModelEntry(text(m, "name"), architecture, optText(m, "family"),
                        optText(m, "parameters"), text(m, "repo"), optText(m, "revision"), text(m, "file"),
                        optLong(m, "sizeBytes"), optText(m, "approxSize"), optText(m, "sha256"), text(m, "tokenizer"),
                        optText(m, "description"));
                if (!tokenizers.containsKey(entry.tokenizer())) {
                    throw new IllegalArgumentException("model " + entry.name() + " names unknown tokenizer " + entry.tokenizer());
                }
                if (names.put(entry.name(), true) != null) {
                    throw new IllegalArgumentException("duplicate model name " + entry.name());
                }
                models.add(entry);
            }
            return new ModelCatalog(Collections.unmodifiableList(models), Collections.unmodifiableMap(tokenizers));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IOException(source + ": invalid model catalog: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("missing text field '" + field + "' in " + node);
        }
        return v.asText();
    }

    private static String optText(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Long optLong(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.canConvertToExactIntegral() || v.asLong() < 0) {
            throw new IllegalArgumentException("field '" + field + "' is not a size in bytes");
        }
        return v.asLong();
    }

    /** Every model, in catalog order. */
    public List<ModelEntry> models() {
        return models;
    }

    /** Every tokenizer by key. */
    public Map<String, TokenizerEntry> tokenizers() {
        return tokenizers;
    }

    /** The model with this name (case-insensitive). */
    public Optional<ModelEntry> find(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return models.stream().filter(m -> m.name().equals(n)).findFirst();
    }

    /** The tokenizer of a model. */
    public TokenizerEntry tokenizerOf(ModelEntry model) {
        return tokenizers.get(model.tokenizer());
    }
}
