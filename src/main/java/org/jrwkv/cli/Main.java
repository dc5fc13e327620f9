package org.jrwkv.cli;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.List;
import org.jrwkv.Rwkv;
import org.jrwkv.internal.NativeLib;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code jrwkv} command line: one subcommand per class, each a thin layer over the public
 * API. Errors end the program with a non-zero exit code and one line on stderr,
 * {@code jrwkv: error: <message>} (plus a stack trace with {@code --debug}).
 */
@Command(name = "jrwkv", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Run RWKV language models on jrwkv's native engine.",
        subcommands = {InfoCommand.class, LogitsCommand.class, QuantizeCommand.class, ConvertCommand.class,
                ModelsCommand.class, PullCommand.class, RunCommand.class, TokenizeCommand.class,
                GenerateCommand.class, ChatCommand.class, RandomModelCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code for a failed command (bad model file, I/O error, ...). */
    public static final int EXIT_FAILURE = 1;
    /** Exit code for bad usage (unknown option, missing argument, bad value). */
    public static final int EXIT_USAGE = 2;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "On errors, print the stack trace; let the engine print its own messages too.")
    boolean debug;

    @Spec
    CommandSpec spec;

    /** Creates the top-level command (picocli instantiates it). */
    public Main() {
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: choose one of info, logits, quantize, convert, models, pull, run, "
                + "tokenize, generate, chat, random-model, bench");
    }

    /**
     * Runs the CLI and exits with its exit code.
     *
     * @param args command-line arguments
     */
    public static void main(String[] args) {
        // UTF-8 whatever the platform's default: generated text and tokenizer output are Unicode.
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = execute(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /**
     * Runs the CLI with the given streams (for tests and embedding).
     *
     * @param args command-line arguments
     * @param out  receives normal output
     * @param err  receives errors
     * @return the exit code: 0 on success, {@link #EXIT_FAILURE} or {@link #EXIT_USAGE}
     */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        boolean debug = hasDebugFlag(args);
        if (debug) {
            System.setProperty(NativeLib.PRINT_NATIVE_ERRORS, "true");
        }
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, arguments) -> {
            String hint = ex.getCommandLine() == null ? "jrwkv --help"
                    : ex.getCommandLine().getCommandSpec().qualifiedName() + " --help";
            reportError(err, ex.getMessage() + " (see '" + hint + "')", ex, debug);
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            reportError(err, describe(ex), ex, debug);
            return EXIT_FAILURE;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** {@code --debug} anywhere before a {@code --} end-of-options marker. */
    private static boolean hasDebugFlag(String[] args) {
        List<String> list = Arrays.asList(args);
        int end = list.indexOf("--");
        return (end < 0 ? list : list.subList(0, end)).contains("--debug");
    }

    private static void reportError(PrintWriter err, String message, Throwable ex, boolean debug) {
        // Exactly one line, whatever the message holds.
        err.println("jrwkv: error: " + message.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim());
        if (debug) {
            ex.printStackTrace(err);
        }
        err.flush();
    }

    /** A plain message for an exception that ended a command. */
    static String describe(Throwable ex) {
        if (ex instanceof NoSuchFileException) {
            return "no such file: " + ex.getMessage();
        }
        if (ex instanceof java.nio.file.AccessDeniedException) {
            return "permission denied: " + ex.getMessage();
        }
        if (ex instanceof java.nio.file.FileSystemException) {
            java.nio.file.FileSystemException fse = (java.nio.file.FileSystemException) ex;
            return fse.getFile() + ": " + (fse.getReason() != null ? fse.getReason() : fse.getClass().getSimpleName());
        }
        String message = ex.getMessage();
        if (message == null || message.isBlank()) {
            return ex.getClass().getSimpleName();
        }
        return message;
    }

    /** Supplies {@code --version}. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jrwkv " + Rwkv.version()};
        }
    }
}
