package org.jrwkv.models;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import org.jrwkv.DataType;
import org.jrwkv.Rwkv;
import org.jrwkv.convert.ConvertOptions;
import org.jrwkv.convert.Converter;

/**
 * The local cache of downloaded and converted models.
 *
 * <p>Layout under the home folder ({@code $JRWKV_HOME}, default {@code ~/.jrwkv}):
 * <pre>
 * models/NAME/CHECKPOINT.pth        the download (deleted after conversion unless kept)
 * models/NAME/CHECKPOINT.pth.part   an unfinished download, resumed by the next pull
 * models/NAME/NAME-FP16.bin         the converted model (FP32 if asked for)
 * models/NAME/NAME-Q5_1.bin         a quantized model, made from the FP16 file
 * models/NAME/.lock                 held while a pull of NAME runs
 * tokenizers/FILE                   tokenizer files (World vocabulary, 20B tokenizer.json)
 * </pre>
 * Every file appears under its final name only when complete and verified: downloads are renamed
 * from {@code .part} after the checksum, conversions and quantizations write temporary files
 * that are renamed. A file present under its final name is therefore trusted.
 */
public final class ModelStore {

    private final Path home;
    private final Downloader downloader;
    private final HubSettings hub;

    /**
     * Creates a store.
     *
     * @param home the cache folder (created when needed)
     * @param hub  download endpoint and token
     */
    public ModelStore(Path home, HubSettings hub) {
        this.home = home.toAbsolutePath();
        this.hub = hub;
        this.downloader = new Downloader(hub);
    }

    /** The store at {@link #defaultHome()} with {@link HubSettings#fromEnvironment()}. */
    public static ModelStore fromEnvironment() {
        return new ModelStore(defaultHome(), HubSettings.fromEnvironment());
    }

    /** {@code $JRWKV_HOME}, else {@code ~/.jrwkv}. */
    public static Path defaultHome() {
        return defaultHome(System.getenv(), System.getProperty("user.home"));
    }

    /** {@code JRWKV_HOME} of the given environment, else {@code .jrwkv} under {@code userHome}. */
    public static Path defaultHome(Map<String, String> env, String userHome) {
        String h = env.get("JRWKV_HOME");
        return h != null && !h.isBlank() ? Path.of(h) : Path.of(userHome, ".jrwkv");
    }

    /** The cache folder. */
    public Path home() {
        return home;
    }

    /** The endpoint settings. */
    public HubSettings hub() {
        return hub;
    }

    /** The folder of a model. */
    public Path modelDir(ModelEntry entry) {
        return home.resolve("models").resolve(entry.name());
    }

    /** Where the model file of a type lives (whether or not it exists). */
    public Path modelFile(ModelEntry entry, DataType type) {
        return modelDir(entry).resolve(entry.name() + "-" + type.name() + ".bin");
    }

    /** Where a tokenizer file lives. */
    public Path tokenizerFile(TokenizerEntry tokenizer) {
        return home.resolve("tokenizers").resolve(tokenizer.file());
    }

    /** The model of this type, if both it and its tokenizer are in the cache. */
    public Optional<PulledModel> cached(ModelEntry entry, TokenizerEntry tokenizer, DataType type) {
        Path model = modelFile(entry, type);
        Path tok = tokenizerFile(tokenizer);
        return Files.isRegularFile(model) && Files.isRegularFile(tok)
                ? Optional.of(new PulledModel(entry, model, type, tok, tokenizer)) : Optional.empty();
    }

    /**
     * The tokenizer file, downloaded (and verified) if it is not in the cache yet.
     *
     * @throws IOException if the download fails
     */
    public Path tokenizer(TokenizerEntry tokenizer, org.jrwkv.ProgressListener progress) throws IOException {
        Path tok = tokenizerFile(tokenizer);
        if (!Files.isRegularFile(tok)) {
            Files.createDirectories(tok.getParent());
            downloader.download(tokenizer.url(), tok, tokenizer.sha256(), tokenizer.sizeBytes(), progress);
        }
        return tok;
    }

    /**
     * Makes a model available: downloads what is missing (resuming unfinished downloads), verifies
     * it, converts and quantizes as asked. Steps already done are skipped.
     *
     * @param entry     the model
     * @param tokenizer its tokenizer
     * @param options   the type wanted and progress
     * @return the files
     * @throws DownloadException if a download fails or does not match its checksum
     * @throws IOException       if conversion or writing fails
     */
    public PulledModel pull(ModelEntry entry, TokenizerEntry tokenizer, PullOptions options) throws IOException {
        Path dir = Files.createDirectories(modelDir(entry));
        Files.createDirectories(tokenizerFile(tokenizer).getParent());
        try (FileChannel lockFile = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
            Path tok = tokenizer(tokenizer, options.progress());
            DataType type = options.type();
            Path target = modelFile(entry, type);
            if (Files.isRegularFile(target)) {
                return new PulledModel(entry, target, type, tok, tokenizer);
            }
            DataType sourceType = type == DataType.FP32 ? DataType.FP32 : DataType.FP16;
            Path source = modelFile(entry, sourceType);
            if (!Files.isRegularFile(source)) {
                Path checkpoint = dir.resolve(entry.file());
                if (!Files.isRegularFile(checkpoint)) {
                    downloader.download(entry.url(hub.endpoint()), checkpoint, entry.sha256(), entry.sizeBytes(),
                            options.progress());
                }
                Converter.convert(checkpoint, source, ConvertOptions.defaults().withDataType(sourceType)
                        .withProgress(options.progress()));
                if (!options.keepCheckpoint()) {
                    Files.delete(checkpoint);
                }
            }
            if (type.isQuantized()) {
                Rwkv.quantize(source, target, type);
            }
            return new PulledModel(entry, target, type, tok, tokenizer);
        }
    }
}
