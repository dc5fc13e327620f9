package org.jrwkv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.jrwkv.DataType;
import org.jrwkv.models.ModelCatalog;
import org.jrwkv.models.ModelEntry;
import org.jrwkv.models.ModelStore;
import org.jrwkv.models.PullOptions;
import org.jrwkv.models.PulledModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jrwkv pull NAME [--quantize TYPE]}: download, verify, convert, quantize into the cache. */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download a model of the catalog and its tokenizer into the cache ($JRWKV_HOME, default"
                + " ~/.jrwkv), verify its SHA-256, convert it to FP16 and, with --quantize, quantize it.",
            "Interrupted downloads resume. HF_ENDPOINT sets the download site, HF_TOKEN an access token."})
final class PullCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME", description = "a model name ('jrwkv models' lists them)")
    String name;

    @Option(names = "--quantize", paramLabel = "TYPE",
            description = "also make a quantized file: Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0")
    String quantize;

    @Option(names = "--fp32", description = "convert to FP32 instead of FP16")
    boolean fp32;

    @Option(names = "--keep-checkpoint", description = "keep the downloaded .pth after conversion")
    boolean keepCheckpoint;

    @Mixin
    ModelChoice choice;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        ModelCatalog catalog = choice.catalog();
        ModelEntry entry = ModelChoice.find(catalog, name);
        DataType type = fp32 ? DataType.FP32 : DataType.FP16;
        if (quantize != null) {
            type = ModelChoice.type(quantize);
            if (!type.isQuantized()) {
                throw new CliException("--quantize takes Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0, not " + quantize);
            }
        }
        PulledModel model = pull(choice.store(), catalog, entry, type, keepCheckpoint);
        PrintWriter w = spec.commandLine().getOut();
        w.printf("%s: %s%n", entry.name(), model.model());
        w.printf("tokenizer: %s%n", model.tokenizer());
        w.flush();
        return 0;
    }

    /** Pulls with console progress (shared with {@code run}). */
    static PulledModel pull(ModelStore store, ModelCatalog catalog, ModelEntry entry, DataType type, boolean keep)
            throws IOException {
        PullOptions options = PullOptions.defaults().withType(type).withKeepCheckpoint(keep)
                .withProgress(ProgressBars.forConsole());
        return store.pull(entry, catalog.tokenizerOf(entry), options);
    }
}
