package org.jrwkv.cli;

import java.util.ArrayList;
import java.util.List;
import org.jrwkv.SamplerSettings;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The sampling options shared by {@code generate} and {@code chat} (a picocli mixin). Options not
 * given keep the command's defaults; bad values are usage errors that name the option.
 */
public final class SamplingOptions {

    @Option(names = "--temperature", paramLabel = "T", description = "0 (greedy) to 100; applied after top-p/top-k")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "nucleus threshold, 0 (greedy) to 1 (no cut)")
    Double topP;

    @Option(names = "--top-k", paramLabel = "K", description = "keep the K most probable tokens (0 = off)")
    Integer topK;

    @Option(names = "--presence-penalty", paramLabel = "X", description = "subtracted once per token already generated")
    Double presencePenalty;

    @Option(names = "--frequency-penalty", paramLabel = "X", description = "subtracted per (decayed) occurrence")
    Double frequencyPenalty;

    @Option(names = "--penalty-decay", paramLabel = "D", description = "occurrence decay per token, 0 to 1")
    Double penaltyDecay;

    @Option(names = "--max-tokens", paramLabel = "N", description = "generate at most N tokens")
    Integer maxTokens;

    @Option(names = "--seed", paramLabel = "SEED", description = "random seed: the same seed gives the same text")
    Long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "stop before this text (repeatable)")
    List<String> stop = new ArrayList<>();

    @Option(names = "--ban", paramLabel = "ID", split = ",", description = "never generate these token ids (repeatable)")
    List<Integer> ban = new ArrayList<>();

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    /** Creates the options (picocli fills them). */
    public SamplingOptions() {
    }

    /**
     * The given options applied to {@code base}.
     *
     * @throws ParameterException if a value is invalid (exit code 2)
     */
    public SamplerSettings apply(SamplerSettings base) {
        try {
            SamplerSettings s = base;
            if (temperature != null) {
                s = s.withTemperature(temperature);
            }
            if (topP != null) {
                s = s.withTopP(topP);
            }
            if (topK != null) {
                s = s.withTopK(topK);
            }
            if (presencePenalty != null) {
                s = s.withPresencePenalty(presencePenalty);
            }
            if (frequencyPenalty != null) {
                s = s.withFrequencyPenalty(frequencyPenalty);
            }
            if (penaltyDecay != null) {
                s = s.withPenaltyDecay(penaltyDecay);
            }
            if (maxTokens != null) {
                s = s.withMaxTokens(maxTokens);
            }
            if (seed != null) {
                s = s.withSeed(seed);
            }
            if (!stop.isEmpty()) {
                List<String> all = new ArrayList<>(s.stopStrings());
                all.addAll(stop);
                s = s.withStopStrings(all);
            }
            if (!ban.isEmpty()) {
                List<Integer> all = new ArrayList<>(s.bannedTokens());
                all.addAll(ban);
                s = s.withBannedTokens(all);
            }
            return s;
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "invalid sampling option: " + e.getMessage());
        }
    }
}
