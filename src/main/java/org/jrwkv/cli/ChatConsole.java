package org.jrwkv.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jrwkv.ChatSession;
import org.jrwkv.GenerationResult;
import org.jrwkv.StopReason;

/**
 * The interactive chat loop over a {@link ChatSession}, independent of how the session was made:
 * reads lines, sends them, streams the replies, and handles {@code /reset}, {@code /save FILE},
 * {@code /load FILE}, {@code /help} and {@code /quit}. On a terminal it uses JLine (line editing,
 * history; Ctrl-C stops the current reply, or clears the line at the prompt; Ctrl-D quits);
 * otherwise it reads standard input line by line.
 *
 * <p>Entry point for other commands: {@link #run(ChatSession, boolean, PrintWriter, PrintWriter)}.
 */
final class ChatConsole {

    /** Where the lines come from. */
    interface LineSource extends AutoCloseable {
        /** The next line, or null at the end of input. */
        String readLine(String prompt) throws IOException;

        /** Runs {@code body}; an interrupt (Ctrl-C) meanwhile calls {@code onInterrupt}. */
        void whileAnswering(Runnable onInterrupt, Runnable body);

        /** Where output goes. */
        PrintWriter writer();

        @Override
        void close() throws IOException;
    }

    /** Standard input, for tests and pipes (the default input, replaceable by tests). */
    static InputStream stdin = System.in;

    private final ChatSession session;
    private final LineSource in;
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean stats;

    ChatConsole(ChatSession session, LineSource in, PrintWriter err, boolean stats) {
        this.session = session;
        this.in = in;
        this.out = in.writer();
        this.err = err;
        this.stats = stats;
    }

    /**
     * Runs a chat on the console until end of input or {@code /quit}: JLine on a terminal, plain
     * lines otherwise.
     *
     * @param session the conversation (not closed here)
     * @param stats   print token counts and speed after each reply
     * @param out     output when standard input is not a terminal
     * @param err     where errors of commands go when not on a terminal
     */
    static void run(ChatSession session, boolean stats, PrintWriter out, PrintWriter err) throws IOException {
        try (LineSource source = System.console() != null && stdin == System.in ? jline() : plain(stdin, out)) {
            new ChatConsole(session, source, System.console() != null ? source.writer() : err, stats).loop();
        }
    }

    /** Reads, answers, repeats. */
    void loop() throws IOException {
        out.println("Chat with the model. Commands: /reset, /save FILE, /load FILE, /help, /quit. "
                + "Ctrl-C stops a reply.");
        out.flush();
        String line;
        while ((line = in.readLine("> ")) != null) {
            String trimmed = line.strip();
            if (trimmed.isEmpty()) {
                continue;
            }
            if (trimmed.startsWith("/")) {
                if (!command(trimmed)) {
                    break;
                }
                continue;
            }
            answer(line);
        }
    }

    private void answer(String message) {
        ReplyPrinter printer = new ReplyPrinter(out);
        GenerationResult[] result = new GenerationResult[1];
        in.whileAnswering(session::cancel, () -> result[0] = session.send(message, printer));
        out.println();
        if (result[0].stopReason() == StopReason.CANCELLED) {
            out.println("(stopped)");
        }
        if (stats) {
            GenerationResult r = result[0];
            out.printf(Locale.ROOT, "(%d prompt tokens, %.1f/s; %d generated, %.1f/s; %s)%n", r.promptTokens(),
                    r.promptTokensPerSecond(), r.generatedTokens(), r.generatedTokensPerSecond(),
                    r.stopReason().name().toLowerCase(Locale.ROOT).replace('_', ' '));
        }
        out.flush();
    }

    /** Handles a command; returns false to quit. */
    private boolean command(String line) {
        String[] parts = line.split("\\s+", 2);
        String name = parts[0];
        String arg = parts.length > 1 ? parts[1].strip() : "";
        try {
            switch (name) {
                case "/quit":
                case "/exit":
                    return false;
                case "/reset":
                    session.reset();
                    out.println("(conversation reset)");
                    break;
                case "/save":
                    requireFile(name, arg);
                    session.save(Path.of(arg));
                    out.println("(saved to " + arg + ")");
                    break;
                case "/load":
                    requireFile(name, arg);
                    session.load(Path.of(arg));
                    out.println("(loaded " + arg + ": " + session.history().size() + " messages, "
                            + session.tokenCount() + " tokens)");
                    break;
                case "/help":
                    out.println("/reset       forget the conversation (keeps the system prompt)");
                    out.println("/save FILE   save the conversation (state and history)");
                    out.println("/load FILE   continue a saved conversation");
                    out.println("/quit        leave (Ctrl-D too)");
                    break;
                default:
                    error("unknown command " + name + "; /help lists them");
                    break;
            }
        } catch (IOException | RuntimeException e) {
            error(Main.describe(e));
        }
        out.flush();
        return true;
    }

    private static void requireFile(String command, String arg) {
        if (arg.isEmpty()) {
            throw new IllegalArgumentException(command + " needs a file name");
        }
    }

    private void error(String message) {
        err.println("error: " + message.replaceAll("\\s*[\\r\\n]+\\s*", " "));
        err.flush();
    }

    /** Prints reply pieces as they come, without the leading space the model starts with. */
    static final class ReplyPrinter implements java.util.function.Consumer<String> {
        private final PrintWriter out;
        private boolean started;

        ReplyPrinter(PrintWriter out) {
            this.out = out;
        }

        @Override
        public void accept(String piece) {
            String text = started ? piece : piece.stripLeading();
            if (!text.isEmpty()) {
                started = true;
                out.print(text);
                out.flush();
            }
        }
    }

    // ---- sources ----

    /** Lines from a stream (UTF-8), no prompt, no line editing. */
    static LineSource plain(InputStream input, PrintWriter out) {
        BufferedReader reader = new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8));
        return new LineSource() {
            @Override
            public String readLine(String prompt) throws IOException {
                return reader.readLine();
            }

            @Override
            public void whileAnswering(Runnable onInterrupt, Runnable body) {
                body.run();
            }

            @Override
            public PrintWriter writer() {
                return out;
            }

            @Override
            public void close() {
                // Standard input stays open.
            }
        };
    }

    /** JLine on the system terminal: line editing, in-memory history, Ctrl-C handling. */
    static LineSource jline() throws IOException {
        Terminal terminal = TerminalBuilder.builder().system(true).encoding(StandardCharsets.UTF_8).build();
        LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("jrwkv").build();
        return new LineSource() {
            @Override
            public String readLine(String prompt) {
                while (true) {
                    try {
                        return reader.readLine(prompt);
                    } catch (UserInterruptException e) {
                        // Ctrl-C at the prompt: forget the line, ask again.
                    } catch (EndOfFileException e) {
                        return null;
                    }
                }
            }

            @Override
            public void whileAnswering(Runnable onInterrupt, Runnable body) {
                Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, signal -> onInterrupt.run());
                try {
                    body.run();
                } finally {
                    terminal.handle(Terminal.Signal.INT, previous);
                }
            }

            @Override
            public PrintWriter writer() {
                return terminal.writer();
            }

            @Override
            public void close() throws IOException {
                terminal.close();
            }
        };
    }
}
