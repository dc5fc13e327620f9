package org.jrwkv.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.jrwkv.RwkvModel;
import org.jrwkv.Tokenizer;

/**
 * How the CLI finds a tokenizer: {@code bytes}, a vocabulary file (kind detected from its
 * content), or, when none is named, the one the model's vocabulary size calls for (bytes for
 * n_vocab 256, else the usual file next to the model, or an error naming the file to get).
 */
final class TokenizerChoice {

    private TokenizerChoice() {
    }

    /** The tokenizer named by {@code spec} ("bytes" or a file). */
    static Tokenizer load(String spec) throws IOException {
        if (spec.equals("bytes")) {
            return Tokenizer.bytes();
        }
        return Tokenizer.load(Path.of(spec));
    }

    /** The tokenizer named by {@code spec}, or the model's usual one if {@code spec} is null. */
    static Tokenizer forModel(String spec, RwkvModel model) throws IOException {
        if (spec != null) {
            return load(spec);
        }
        Path dir = model.path().toAbsolutePath().getParent();
        try {
            return Tokenizer.forModel(model.vocabSize(), dir);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CliException("no tokenizer given and none found: " + e.getFile() + ": " + e.getReason()
                    + " (or use --tokenizer FILE)");
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage() + " (use --tokenizer FILE)");
        }
    }
}
