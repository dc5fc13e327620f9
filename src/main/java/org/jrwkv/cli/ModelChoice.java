package org.jrwkv.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.jrwkv.DataType;
import org.jrwkv.models.ModelCatalog;
import org.jrwkv.models.HubSettings;
import org.jrwkv.models.ModelEntry;
import org.jrwkv.models.ModelStore;
import picocli.CommandLine.Option;

/** Options shared by {@code models}, {@code pull} and {@code run}: which catalog, cache and download site. */
final class ModelChoice {

    @Option(names = "--catalog", paramLabel = "FILE",
            description = "a catalog JSON file to use instead of the built-in one")
    Path catalogFile;

    @Option(names = "--home", paramLabel = "DIR",
            description = "the model cache (default: $JRWKV_HOME, else ~/.jrwkv)")
    Path home;

    @Option(names = "--endpoint", paramLabel = "URL",
            description = "the Hugging Face site or mirror to download from (default: $HF_ENDPOINT, else https://huggingface.co)")
    java.net.URI endpoint;

    /** The cache, with the endpoint and token of the environment unless overridden. */
    ModelStore store() {
        HubSettings env = HubSettings.fromEnvironment();
        HubSettings hub = endpoint == null ? env : new HubSettings(endpoint, env.token());
        return new ModelStore(home != null ? home : ModelStore.defaultHome(), hub);
    }

    /** The catalog. */
    ModelCatalog catalog() throws IOException {
        return catalogFile == null ? ModelCatalog.builtIn() : ModelCatalog.read(catalogFile);
    }

    /** A catalog entry by name, or a one-line error listing the names. */
    static ModelEntry find(ModelCatalog catalog, String name) {
        return catalog.find(name).orElseThrow(() -> new CliException("unknown model '" + name + "' (known: "
                + catalog.models().stream().map(ModelEntry::name).collect(Collectors.joining(", "))
                + "; 'jrwkv models' lists them)"));
    }

    /** A model type by name: FP16, FP32 or a quantized type (case-insensitive). */
    static DataType type(String name) {
        try {
            return DataType.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CliException("unknown type '" + name + "'; choose one of "
                    + Arrays.stream(DataType.values()).map(DataType::name).collect(Collectors.joining(", ")));
        }
    }
}
