package org.jrwkv.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jrwkv.ChatSession;
import org.jrwkv.ModelOptions;
import org.jrwkv.PromptFormat;
import org.jrwkv.RwkvModel;
import org.jrwkv.SamplerSettings;
import org.jrwkv.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jrwkv chat --model M [--tokenizer T]}: an interactive chat that keeps the model's state
 * between turns (see {@link ChatConsole}). {@code jrwkv run} calls this command.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Chat with a model. Each turn feeds only the new text; the conversation's state is kept.",
            "Commands: /reset, /save FILE, /load FILE, /help, /quit. Ctrl-C stops the current reply; Ctrl-D quits.",
            "Sampling defaults are ChatRWKV's chat demo: temperature 1.0, top-p 0.3, presence and frequency "
                    + "penalties 0.5, decay 0.996, at most 1024 tokens per reply."})
final class ChatCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "MODEL", description = "an rwkv.cpp model file")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "vocabulary file or 'bytes' (default: by the model's vocabulary size, from its folder)")
    String tokenizer;

    @Option(names = "--system", paramLabel = "TEXT", description = "system prompt, fed once at the start")
    String system;

    @Option(names = "--user", paramLabel = "NAME", defaultValue = "User", description = "user name (default: ${DEFAULT-VALUE})")
    String user;

    @Option(names = "--assistant", paramLabel = "NAME", defaultValue = "Assistant",
            description = "assistant name (default: ${DEFAULT-VALUE})")
    String assistant;

    @Option(names = "--load", paramLabel = "FILE", description = "continue a conversation saved with /save")
    Path load;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: processors, at most 8)")
    Integer threads;

    @Option(names = "--stats", description = "show token counts and speed after each reply")
    boolean stats;

    @Mixin
    SamplingOptions sampling;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        SamplerSettings settings = sampling.apply(SamplerSettings.chat());
        PromptFormat.Chat format;
        try {
            format = new PromptFormat.Chat(user, assistant, system == null ? "" : system);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        ModelOptions options = threads == null ? ModelOptions.defaults() : ModelOptions.defaults().withThreads(threads);
        try (RwkvModel m = RwkvModel.load(model, options)) {
            Tokenizer t = TokenizerChoice.forModel(tokenizer, m);
            try (ChatSession session = new ChatSession(m, t, format, settings)) {
                if (load != null) {
                    session.load(load);
                }
                ChatConsole.run(session, stats, spec.commandLine().getOut(), spec.commandLine().getErr());
            }
        }
        return 0;
    }
}
