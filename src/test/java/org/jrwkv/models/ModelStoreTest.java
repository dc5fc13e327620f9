package org.jrwkv.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jrwkv.Architecture;
import org.jrwkv.DataType;
import org.jrwkv.RwkvModel;
import org.jrwkv.TestData;
import org.jrwkv.convert.Fixtures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pulling a model through a local "Hugging Face": download, verify, convert, quantize, cache. */
class ModelStoreTest {

    static final String PTH = "tiny-rwkv-7v0-834K.pth";

    @TempDir
    Path dir;

    LocalHub hub;

    @BeforeEach
    void start() throws IOException {
        hub = new LocalHub();
        hub.file("/jrwkv/tiny/resolve/main/" + PTH, Files.readAllBytes(Fixtures.pth(PTH)));
        hub.file("/raw/rwkv_vocab_v20230424.txt",
                Files.readAllBytes(TestData.dir().resolve("tokenizers/rwkv_vocab_v20230424.txt")));
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    static JsonNode manifest(String pth) {
        return Fixtures.manifest().stream().filter(m -> m.get("pth").asText().equals(pth)).findFirst().orElseThrow();
    }

    /** A catalog of one model served by {@code hub}, with the given checkpoint checksum. */
    static String catalogJson(LocalHub hub, String checkpointSha) {
        return "{\"tokenizers\": {\"world\": {\"kind\": \"world\", \"file\": \"rwkv_vocab_v20230424.txt\","
                + " \"url\": \"" + hub.base() + "/raw/rwkv_vocab_v20230424.txt\","
                + " \"sha256\": \"e6dee3d4e31b4d5c40ac99508ac6c701ceef4bed681bf2167ce9a908552bca89\"}},"
                + " \"models\": [{\"name\": \"tiny7\", \"architecture\": \"7\", \"family\": \"test\", \"parameters\": \"834K\","
                + " \"repo\": \"jrwkv/tiny\", \"file\": \"" + PTH + "\", \"sha256\": \"" + checkpointSha + "\","
                + " \"tokenizer\": \"world\"}]}";
    }

    private ModelCatalog catalog(String sha) throws IOException {
        Path file = dir.resolve("catalog.json");
        Files.writeString(file, catalogJson(hub, sha), StandardCharsets.UTF_8);
        return ModelCatalog.read(file);
    }

    @Test
    void pullDownloadsVerifiesConvertsAndQuantizes() throws IOException {
        ModelCatalog catalog = catalog(manifest(PTH).get("pth_sha256").asText());
        ModelEntry entry = catalog.find("TINY7").orElseThrow();
        hub.dropOnceAfter("/jrwkv/tiny/resolve/main/" + PTH, 700_000);
        ModelStore store = new ModelStore(dir.resolve("home"), new HubSettings(hub.base(), null));
        PulledModel pulled = store.pull(entry, catalog.tokenizerOf(entry), PullOptions.defaults().withType(DataType.Q5_1));

        assertEquals(store.modelFile(entry, DataType.Q5_1), pulled.model());
        assertEquals(manifest(PTH).get("expected_fp16_sha256").asText(),
                Fixtures.sha256(store.modelFile(entry, DataType.FP16)), "the FP16 file is the converter's output");
        try (RwkvModel model = RwkvModel.load(pulled.model())) {
            assertEquals(Architecture.V7, model.architecture());
            assertEquals(DataType.Q5_1, model.dataType());
        }
        assertEquals(Set.of(".lock", "tiny7-FP16.bin", "tiny7-Q5_1.bin"), names(store.modelDir(entry)),
                "checkpoint deleted after conversion, no .part left");
        assertTrue(Files.isRegularFile(pulled.tokenizer()));
        assertTrue(hub.requests().stream().anyMatch(r -> r.range() != null), "the dropped download was resumed");

        // Everything cached: a second pull asks the server for nothing.
        int before = hub.requests().size();
        PulledModel again = store.pull(entry, catalog.tokenizerOf(entry), PullOptions.defaults().withType(DataType.Q5_1));
        assertEquals(pulled, again);
        assertEquals(before, hub.requests().size());
        assertTrue(store.cached(entry, catalog.tokenizerOf(entry), DataType.FP16).isPresent());
    }

    @Test
    void aWrongChecksumCachesNothing() throws IOException {
        ModelCatalog catalog = catalog("ab".repeat(32));
        ModelEntry entry = catalog.find("tiny7").orElseThrow();
        ModelStore store = new ModelStore(dir.resolve("home"), new HubSettings(hub.base(), null));
        DownloadException e = assertThrows(DownloadException.class,
                () -> store.pull(entry, catalog.tokenizerOf(entry), PullOptions.defaults()));
        assertTrue(e.getMessage().contains("SHA-256 mismatch"), e.getMessage());
        assertEquals(Set.of(".lock"), names(store.modelDir(entry)), "no checkpoint, no .part, no model");
        assertFalse(store.cached(entry, catalog.tokenizerOf(entry), DataType.FP16).isPresent());
    }

    private static Set<String> names(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return new HashSet<>(s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void theBuiltInCatalogIsConsistent() throws IOException {
        ModelCatalog c = ModelCatalog.builtIn();
        assertTrue(c.models().size() >= 18, "v4 Pile and Raven, v5, v6 and v7 World");
        for (Architecture a : Architecture.values()) {
            if (a != Architecture.V5_1) {
                assertTrue(c.models().stream().anyMatch(m -> m.architecture() == a), "a model of " + a);
            }
        }
        Set<String> files = new HashSet<>();
        for (ModelEntry m : c.models()) {
            assertTrue(files.add(m.repo() + "/" + m.file()), "duplicate " + m.file());
            assertNotNull(c.tokenizerOf(m), m.name());
            String expectedTokenizer = m.family().equals("World") ? "world" : "neox";
            assertEquals(expectedTokenizer, m.tokenizer(), m.name());
            assertTrue(m.sourceUrl().toString().startsWith("https://huggingface.co/" + m.repo() + "/resolve/main/"),
                    m.sourceUrl().toString());
            assertTrue(m.file().endsWith(".pth"), m.file());
        }
        // The tokenizer checksums are those of the vocabulary files in the test data (byte-identical copies).
        Map<String, String> files2 = Map.of("world", "rwkv_vocab_v20230424.txt", "neox", "20B_tokenizer.json");
        for (Map.Entry<String, String> e : files2.entrySet()) {
            TokenizerEntry t = c.tokenizers().get(e.getKey());
            Path local = TestData.dir().resolve("tokenizers").resolve(e.getValue());
            assertEquals(Fixtures.sha256(local), t.sha256(), e.getKey());
            assertEquals(Files.size(local), t.sizeBytes(), e.getKey());
        }
        // Raven file names hold '%': escaped in the URL.
        assertTrue(c.find("rwkv4-raven-1.5b").orElseThrow().sourceUrl().toString().contains("Eng98%25-Other2%25"));
        assertEquals(List.of(), c.models().stream().filter(m -> m.sha256() == null && m.name().startsWith("rwkv7")).toList(),
                "every RWKV-7 checksum is known");
    }

    @Test
    void theHomeFollowsJrwkvHome() {
        assertEquals(Path.of("/x/cache"), ModelStore.defaultHome(Map.of("JRWKV_HOME", "/x/cache"), "/home/u"));
        assertEquals(Path.of("/home/u/.jrwkv"), ModelStore.defaultHome(Map.of(), "/home/u"));
    }
}
