package org.jrwkv.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import org.jrwkv.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jrwkv tokenize --tokenizer FILE [--decode] [TEXT | -]}: text to token ids (a JSON array
 * on one line), or with {@code --decode} a JSON array of ids to text (followed by one newline).
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Encode TEXT (or standard input with '-', read as UTF-8 exactly as given) and print the "
                + "token ids as a JSON array on one line.",
            "With --decode, read a JSON array of ids instead and print its text followed by one newline."})
final class TokenizeCommand implements Callable<Integer> {

    /** Where standard input comes from (tests replace it). */
    static InputStream stdin = System.in;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "rwkv_vocab_v20230424.txt (World), a Hugging Face tokenizer.json (GPT-NeoX-20B), or 'bytes'")
    String tokenizer;

    @Option(names = "--decode", description = "decode a JSON array of ids to text")
    boolean decode;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TEXT | -", description = "the input; '-' reads standard input")
    String input;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (input == null) {
            throw new CliException("give the " + (decode ? "ids (a JSON array)" : "text") + " as an argument, or '-' to "
                    + "read standard input");
        }
        String text = input.equals("-") ? readStdin() : input;
        Tokenizer t = TokenizerChoice.load(tokenizer);
        PrintWriter out = spec.commandLine().getOut();
        if (decode) {
            out.print(t.decode(parseIds(text)));
            out.print('\n');
        } else {
            int[] ids = t.encode(text);
            StringBuilder json = new StringBuilder(ids.length * 7 + 2).append('[');
            for (int i = 0; i < ids.length; i++) {
                if (i > 0) {
                    json.append(", ");
                }
                json.append(ids[i]);
            }
            out.print(json.append("]\n"));
        }
        out.flush();
        return 0;
    }

    private static String readStdin() throws IOException {
        byte[] bytes = stdin.readAllBytes();
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CliException("standard input is not valid UTF-8");
        }
    }

    private static int[] parseIds(String text) {
        JsonNode node;
        try {
            node = new ObjectMapper().readTree(text);
        } catch (JsonProcessingException e) {
            throw new CliException("--decode expects a JSON array of token ids: " + e.getOriginalMessage());
        }
        if (node == null || !node.isArray()) {
            throw new CliException("--decode expects a JSON array of token ids, like [33155, 45]");
        }
        int[] ids = new int[node.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = node.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt()) {
                throw new CliException("--decode: element " + i + " is not a token id: " + id);
            }
            ids[i] = id.asInt();
        }
        return ids;
    }
}
