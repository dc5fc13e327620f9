package org.jrwkv;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How the next token is chosen and when generation stops: the RWKV reference pipeline's
 * parameters ({@code PIPELINE_ARGS} of the {@code rwkv} pip package), plus a seed.
 *
 * <p>Sampling order (see {@link Sampler}): banned tokens get a logit of −∞; every token generated
 * so far in this reply has {@code presencePenalty + count × frequencyPenalty} subtracted from its
 * logit, where count is decayed by {@code penaltyDecay} per generated token; softmax; top-p on that
 * temperature-1 distribution; top-k; only then the temperature, as {@code p^(1/T)}; draw.
 * Temperature therefore never changes which tokens are allowed, only their weights.
 *
 * <p>Every value is checked when the record is made: NaN, infinite, negative or out-of-range
 * values throw an {@link IllegalArgumentException} that names the parameter.
 *
 * @param temperature      in [0, 100]; 0 means greedy (top-p 0), 1 leaves the weights as they are
 * @param topP             nucleus threshold in [0, 1]: keep the most probable tokens until their
 *                         probabilities sum to at least topP (ties with the last one kept too);
 *                         0 is greedy, 1 keeps every token
 * @param topK             keep at most this many tokens (the most probable; ties by lower id);
 *                         0 = off
 * @param presencePenalty  subtracted once from the logit of every token already generated; ≥ 0
 * @param frequencyPenalty subtracted per (decayed) occurrence; ≥ 0
 * @param penaltyDecay     occurrence counts are multiplied by this after each token, in [0, 1]
 * @param bannedTokens     ids that are never generated
 * @param stopTokens       ids that end generation (not emitted, not fed); the tokenizer's
 *                         end-of-text token always ends it too
 * @param stopStrings      texts that end generation; the text up to the first occurrence is
 *                         emitted, the stop string itself is not
 * @param maxTokens        generate at most this many tokens, at least 1
 * @param seed             the random seed; the same seed gives the same tokens for the same input.
 *                         Empty: a random seed
 */
public record SamplerSettings(double temperature, double topP, int topK, double presencePenalty,
        double frequencyPenalty, double penaltyDecay, Set<Integer> bannedTokens, Set<Integer> stopTokens,
        List<String> stopStrings, int maxTokens, OptionalLong seed) {

    /** Largest temperature accepted. */
    public static final double MAX_TEMPERATURE = 100;

    private static final SamplerSettings DEFAULTS = new SamplerSettings(1.0, 0.85, 0, 0.2, 0.2, 0.996, Set.of(),
            Set.of(), List.of(), 256, OptionalLong.empty());

    /** Checks every value and makes the collections immutable. */
    public SamplerSettings {
        check("temperature", temperature, 0, MAX_TEMPERATURE);
        check("topP", topP, 0, 1);
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be 0 (off) or positive, got " + topK);
        }
        check("presencePenalty", presencePenalty, 0, Double.MAX_VALUE);
        check("frequencyPenalty", frequencyPenalty, 0, Double.MAX_VALUE);
        check("penaltyDecay", penaltyDecay, 0, 1);
        bannedTokens = tokenSet("bannedTokens", bannedTokens);
        stopTokens = tokenSet("stopTokens", stopTokens);
        Objects.requireNonNull(stopStrings, "stopStrings");
        for (String s : stopStrings) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stopStrings must not contain " + (s == null ? "null" : "\"\""));
            }
        }
        stopStrings = List.copyOf(stopStrings);
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be at least 1, got " + maxTokens);
        }
        Objects.requireNonNull(seed, "seed");
    }

    private static void check(String name, double value, double min, double max) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(name + " must be a finite number, got " + value);
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be in [" + format(min) + ", " + format(max) + "], got "
                    + value);
        }
    }

    private static String format(double v) {
        if (v == Double.MAX_VALUE) {
            return "∞";
        }
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    private static Set<Integer> tokenSet(String name, Set<Integer> ids) {
        Objects.requireNonNull(ids, name);
        for (Integer id : ids) {
            if (id == null || id < 0) {
                throw new IllegalArgumentException(name + " must hold token ids ≥ 0, got " + id);
            }
        }
        return Set.copyOf(ids);
    }

    /**
     * The reference pipeline's defaults: temperature 1.0, top-p 0.85, top-k off, presence 0.2,
     * frequency 0.2, decay 0.996; at most 256 tokens; no banned or stop tokens; random seed.
     */
    public static SamplerSettings defaults() {
        return DEFAULTS;
    }

    /**
     * The chat settings of ChatRWKV's {@code API_DEMO_CHAT}: temperature 1.0, top-p 0.3, presence
     * 0.5, frequency 0.5, decay 0.996; at most 1024 tokens per reply.
     */
    public static SamplerSettings chat() {
        return DEFAULTS.withTopP(0.3).withPresencePenalty(0.5).withFrequencyPenalty(0.5).withMaxTokens(1024);
    }

    /** Always the most probable token (top-p 0, no penalties): deterministic. */
    public static SamplerSettings greedy() {
        return DEFAULTS.withTopP(0).withPresencePenalty(0).withFrequencyPenalty(0);
    }

    /** A copy with another temperature. */
    public SamplerSettings withTemperature(double value) {
        return new SamplerSettings(value, topP, topK, presencePenalty, frequencyPenalty, penaltyDecay, bannedTokens,
                stopTokens, stopStrings, maxTokens, seed);
    }

    /** A copy with another top-p. */
    public SamplerSettings withTopP(double value) {
        return new SamplerSettings(temperature, value, topK, presencePenalty, frequencyPenalty, penaltyDecay,
                bannedTokens, stopTokens, stopStrings, maxTokens, seed);
    }

    /** A copy with another top-k (0 = off). */
    public SamplerSettings withTopK(int value) {
        return new SamplerSettings(temperature, topP, value, presencePenalty, frequencyPenalty, penaltyDecay,
                bannedTokens, stopTokens, stopStrings, maxTokens, seed);
    }

    /** A copy with another presence penalty. */
    public SamplerSettings withPresencePenalty(double value) {
        return new SamplerSettings(temperature, topP, topK, value, frequencyPenalty, penaltyDecay, bannedTokens,
                stopTokens, stopStrings, maxTokens, seed);
    }

    /** A copy with another frequency penalty. */
    public SamplerSettings withFrequencyPenalty(double value) {
        return new SamplerSettings(temperature, topP, topK, presencePenalty, value, penaltyDecay, bannedTokens,
                stopTokens, stopStrings, maxTokens, seed);
    }

    /** A copy with another penalty decay. */
    public SamplerSettings withPenaltyDecay(double value) {
        return new SamplerSettings(temperature, topP, topK, presencePenalty, frequencyPenalty, value, bannedTokens,
                stopTokens, stopStrings, maxTokens, seed);
    }

    /** A copy with these banned tokens (replacing the others). */
    public SamplerSettings withBannedTokens(Collection<Integer> ids) {
        return new SamplerSettings(temperature, topP, topK, presencePenalty, frequencyPenalty, penaltyDecay,
                Set.copyOf(ids), stopTokens, stopStrings, maxTokens, seed);
    }

    /** A copy with these banned tokens (replacing the others). */
    public SamplerSettings withBannedTokens(int... ids) {
        return withBannedTokens(Arrays.stream(ids).boxed().collect(Collectors.toSet()));
    }

    /** A copy with these stop tokens (replacing the others). */
    public SamplerSettings withStopTokens(Collection<Integer> ids) {
        return new SamplerSettings(temperature, topP, topK, presencePenalty, frequencyPenalty, penaltyDecay,
                bannedTokens, Set.copyOf(ids), stopStrings, maxTokens, seed);
    }

    /** A copy with these stop tokens (replacing the others). */
    public SamplerSettings withStopTokens(int... ids) {
        return withStopTokens(Arrays.stream(ids).boxed().collect(Collectors.toSet()));
    }

    /** A copy with these stop strings (replacing the others). */
    public SamplerSettings withStopStrings(List<String> values) {
        return new SamplerSettings(temperature, topP, topK, presencePenalty, frequencyPenalty, penaltyDecay,
                bannedTokens, stopTokens, values, maxTokens, seed);
    }

    /** A copy with these stop strings (replacing the others). */
    public SamplerSettings withStopStrings(String... values) {
        return withStopStrings(Arrays.asList(values));
    }

    /** A copy with another token limit. */
    public SamplerSettings withMaxTokens(int value) {
        return new SamplerSettings(temperature, topP, topK, presencePenalty, frequencyPenalty, penaltyDecay,
                bannedTokens, stopTokens, stopStrings, value, seed);
    }

    /** A copy with a fixed seed. */
    public SamplerSettings withSeed(long value) {
        return new SamplerSettings(temperature, topP, topK, presencePenalty, frequencyPenalty, penaltyDecay,
                bannedTokens, stopTokens, stopStrings, maxTokens, OptionalLong.of(value));
    }

    /** A copy with a random seed. */
    public SamplerSettings withRandomSeed() {
        return new SamplerSettings(temperature, topP, topK, presencePenalty, frequencyPenalty, penaltyDecay,
                bannedTokens, stopTokens, stopStrings, maxTokens, OptionalLong.empty());
    }
}
