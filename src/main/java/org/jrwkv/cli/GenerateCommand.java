package org.jrwkv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jrwkv.GenerationResult;
import org.jrwkv.Generator;
import org.jrwkv.ModelOptions;
import org.jrwkv.Prompt;
import org.jrwkv.PromptFormat;
import org.jrwkv.RwkvModel;
import org.jrwkv.SamplerSettings;
import org.jrwkv.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jrwkv generate}: one completion, streamed to standard output as it is generated. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate text from a prompt and stream it to standard output.",
            "Sampling defaults are the RWKV pipeline's: temperature 1.0, top-p 0.85, presence and frequency "
                    + "penalties 0.2, decay 0.996, at most 256 tokens."})
final class GenerateCommand implements Callable<Integer> {

    /** The prompt formats, by their command-line name. */
    enum FormatName {
        /** The prompt as is. */
        raw,
        /** {@code User: P\n\nAssistant:}. */
        chat,
        /** {@code Question: P\n\nAnswer:}. */
        qa,
        /** {@code Instruction: P\n\n[Input: I\n\n]Response:}. */
        instruction
    }

    @Option(names = "--model", required = true, paramLabel = "MODEL", description = "an rwkv.cpp model file")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "vocabulary file or 'bytes' (default: by the model's vocabulary size, from its folder)")
    String tokenizer;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "the prompt")
    String prompt;

    @Option(names = "--format", defaultValue = "raw", paramLabel = "FORMAT",
            description = "raw, chat, qa or instruction (default: ${DEFAULT-VALUE}); all but raw stop at a blank line")
    FormatName format;

    @Option(names = "--system", paramLabel = "TEXT", description = "system prompt (--format chat)")
    String system;

    @Option(names = "--input", paramLabel = "TEXT", description = "material for the instruction (--format instruction)")
    String input;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: processors, at most 8)")
    Integer threads;

    @Option(names = "--stats", description = "print token counts and speed to standard error at the end")
    boolean stats;

    @Mixin
    SamplingOptions sampling;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        SamplerSettings settings = sampling.apply(SamplerSettings.defaults());
        Prompt p = prompt();
        ModelOptions options = threads == null ? ModelOptions.defaults() : ModelOptions.defaults().withThreads(threads);
        PrintWriter out = spec.commandLine().getOut();
        try (RwkvModel m = RwkvModel.load(model, options)) {
            Tokenizer t = TokenizerChoice.forModel(tokenizer, m);
            GenerationResult r;
            try (Generator generator = new Generator(m, t, settings)) {
                r = generator.generate(p, settings, piece -> {
                    out.print(piece);
                    out.flush();
                });
            }
            out.print('\n');
            out.flush();
            if (stats) {
                PrintWriter err = spec.commandLine().getErr();
                err.printf(Locale.ROOT, "jrwkv: %d prompt tokens (%.1f/s), %d generated (%.1f/s), stop: %s%n",
                        r.promptTokens(), r.promptTokensPerSecond(), r.generatedTokens(), r.generatedTokensPerSecond(),
                        r.stopReason().name().toLowerCase(Locale.ROOT).replace('_', ' '));
                err.flush();
            }
        }
        return 0;
    }

    private Prompt prompt() {
        try {
            switch (format) {
                case chat:
                    return (system == null ? PromptFormat.chat() : PromptFormat.chat(system)).prompt(prompt);
                case qa:
                    return PromptFormat.questionAnswer().prompt(prompt);
                case instruction:
                    return PromptFormat.instruction().prompt(prompt, input == null ? "" : input);
                default:
                    return Prompt.of(prompt);
            }
        } catch (IllegalArgumentException e) {
            throw new CliException("--prompt: " + e.getMessage());
        }
    }
}
