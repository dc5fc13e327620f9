package org.jrwkv;

import java.util.List;
import java.util.Objects;

/**
 * A prompt to generate from: the text fed to the model and the texts that end the answer. Made by
 * a {@link PromptFormat} (which also supplies the turn separator as stop string), or raw with
 * {@link #of(String)}.
 *
 * @param text        the prompt, exactly as it is encoded (not empty)
 * @param stopStrings texts that end generation, added to the sampler settings' own
 */
public record Prompt(String text, List<String> stopStrings) {

    /** Checks the values and copies the list. */
    public Prompt {
        Objects.requireNonNull(text, "text");
        if (text.isEmpty()) {
            throw new IllegalArgumentException("prompt text must not be empty");
        }
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    /** A raw completion prompt: the text as is, no stop string. */
    public static Prompt of(String text) {
        return new Prompt(text, List.of());
    }
}
