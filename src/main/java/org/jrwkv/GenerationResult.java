package org.jrwkv;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What a generation produced, with counts and timing.
 *
 * @param text             the generated text (without a stop string or stop token)
 * @param tokens           the generated tokens, in order (including those of a stop string;
 *                         not a stop or end-of-text token)
 * @param promptTokens     tokens of the prompt that were fed to the model (not those restored
 *                         from a {@link PrefixCache} or already in a chat's state)
 * @param cachedTokens     tokens of the prompt whose state came from a {@link PrefixCache}
 * @param stopReason       why generation ended
 * @param promptTime       time spent feeding the prompt
 * @param generationTime   time spent generating (sampling and feeding generated tokens)
 */
public record GenerationResult(String text, List<Integer> tokens, int promptTokens, int cachedTokens,
        StopReason stopReason, Duration promptTime, Duration generationTime) {

    /** Checks the values and copies the list. */
    public GenerationResult {
        Objects.requireNonNull(text, "text");
        tokens = List.copyOf(tokens);
        Objects.requireNonNull(stopReason, "stopReason");
        Objects.requireNonNull(promptTime, "promptTime");
        Objects.requireNonNull(generationTime, "generationTime");
    }

    /** Number of generated tokens. */
    public int generatedTokens() {
        return tokens.size();
    }

    /** Prompt tokens fed per second (0 if none were fed). */
    public double promptTokensPerSecond() {
        return rate(promptTokens, promptTime);
    }

    /** Generated tokens per second (0 if none). */
    public double generatedTokensPerSecond() {
        return rate(tokens.size(), generationTime);
    }

    private static double rate(int count, Duration time) {
        long nanos = time.toNanos();
        return count == 0 || nanos <= 0 ? 0 : count / (nanos / 1e9);
    }
}
