package org.jrwkv.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jrwkv.DataType;
import org.jrwkv.ModelOptions;
import org.jrwkv.RwkvModel;
import org.jrwkv.models.ModelCatalog;
import org.jrwkv.models.ModelEntry;
import org.jrwkv.models.ModelStore;
import org.jrwkv.models.PulledModel;
import org.jrwkv.models.TokenizerEntry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jrwkv run NAME|FILE}: pull the model if it is not in the cache (quantized to Q5_1 by
 * default), then chat with it. A model file path works too; its tokenizer is then {@code
 * --tokenizer FILE}, or the catalog's tokenizer for its vocabulary size (World for 65536, the 20B
 * tokenizer for 50277; none for byte-level models), fetched into the cache if needed.
 *
 * <p>The chat itself is the {@code chat} command: {@code run} calls it as
 * {@code chat --model MODEL [--tokenizer FILE] [CHAT_OPTIONS...]}.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Chat with a model: NAME from the catalog ('jrwkv models'), downloaded, converted and"
                + " quantized on first use, or the path of a model file.",
            "Options after NAME that run does not know go to the chat command."})
final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME|FILE", description = "a catalog name, or a model file (.bin)")
    String model;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "Q5_1",
            description = "the cached file to use or make: FP16, FP32, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (default: ${DEFAULT-VALUE})")
    String type;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer for a model file: rwkv_vocab_v20230424.txt or 20B_tokenizer.json")
    Path tokenizer;

    @CommandLine.Unmatched
    List<String> chatArgs = new ArrayList<>();

    @Mixin
    ModelChoice choice;

    @Spec
    CommandSpec spec;

    /** What to chat with. */
    record Target(Path model, Path tokenizer) {
    }

    @Override
    public Integer call() throws IOException {
        Target target = resolve();
        CommandLine chat = spec.parent() == null ? null : spec.parent().subcommands().get("chat");
        if (chat == null) {
            throw new CliException("this build has no chat command yet; the model is ready: " + target.model()
                    + (target.tokenizer() != null ? " (tokenizer " + target.tokenizer() + ")" : ""));
        }
        List<String> args = new ArrayList<>(List.of("--model", target.model().toString()));
        if (target.tokenizer() != null) {
            args.add("--tokenizer");
            args.add(target.tokenizer().toString());
        }
        args.addAll(chatArgs);
        return chat.execute(args.toArray(new String[0]));
    }

    /** The model file and tokenizer: a cached (or freshly pulled) catalog model, or a local file. */
    Target resolve() throws IOException {
        Path file = Path.of(model);
        boolean looksLikePath = model.contains("/") || model.contains("\\") || model.endsWith(".bin");
        if (looksLikePath || Files.isRegularFile(file)) {
            if (!Files.isRegularFile(file)) {
                throw new CliException("no such model file: " + model);
            }
            if (tokenizer != null) {
                return new Target(file, tokenizer);
            }
            int vocab;
            try (RwkvModel m = RwkvModel.load(file, new ModelOptions(1, 0))) {
                vocab = m.vocabSize();
            }
            Optional<TokenizerEntry> t = tokenizerFor(choice.catalog(), vocab);
            if (t.isEmpty()) {
                if (vocab == 256) {
                    return new Target(file, null); // byte-level: token = byte
                }
                throw new CliException(file + " has a vocabulary of " + vocab + " tokens; name its tokenizer with --tokenizer FILE");
            }
            return new Target(file, choice.store().tokenizer(t.get(), ProgressBars.forConsole()));
        }
        ModelCatalog catalog = choice.catalog();
        ModelEntry entry = ModelChoice.find(catalog, model);
        DataType dataType = ModelChoice.type(type);
        ModelStore store = choice.store();
        Optional<PulledModel> cached = store.cached(entry, catalog.tokenizerOf(entry), dataType);
        PulledModel pulled = cached.isPresent() ? cached.get() : PullCommand.pull(store, catalog, entry, dataType, false);
        return new Target(pulled.model(), tokenizer != null ? tokenizer : pulled.tokenizer());
    }

    /** The catalog tokenizer of a vocabulary size: World 65536, NeoX 50277. */
    static Optional<TokenizerEntry> tokenizerFor(ModelCatalog catalog, int vocab) {
        String kind = vocab == 65536 ? "world" : vocab == 50277 ? "neox" : null;
        return catalog.tokenizers().values().stream().filter(t -> t.kind().equals(kind)).findFirst();
    }
}
