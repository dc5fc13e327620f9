package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Defaults and validation of the sampling parameters. */
class SamplerSettingsTest {

    @Test
    void defaultsAreThePipelineDefaults() {
        SamplerSettings d = SamplerSettings.defaults();
        assertEquals(1.0, d.temperature());
        assertEquals(0.85, d.topP());
        assertEquals(0, d.topK());
        assertEquals(0.2, d.presencePenalty());
        assertEquals(0.2, d.frequencyPenalty());
        assertEquals(0.996, d.penaltyDecay());
        assertEquals(Set.of(), d.bannedTokens());
        assertEquals(OptionalLong.empty(), d.seed());
        SamplerSettings chat = SamplerSettings.chat();
        assertEquals(0.3, chat.topP());
        assertEquals(0.5, chat.presencePenalty());
        assertEquals(0.5, chat.frequencyPenalty());
        assertEquals(0.0, SamplerSettings.greedy().topP());
        assertEquals(OptionalLong.of(9), d.withSeed(9).seed());
        assertEquals(OptionalLong.empty(), d.withSeed(9).withRandomSeed().seed());
    }

    @Test
    void badValuesAreRejectedWithTheParameterName() {
        SamplerSettings d = SamplerSettings.defaults();
        expect(() -> d.withTemperature(Double.NaN), "temperature must be a finite number, got NaN");
        expect(() -> d.withTemperature(-0.1), "temperature must be in [0, 100], got -0.1");
        expect(() -> d.withTemperature(1000), "temperature must be in [0, 100]");
        expect(() -> d.withTemperature(Double.POSITIVE_INFINITY), "temperature must be a finite number");
        expect(() -> d.withTopP(-0.01), "topP must be in [0, 1], got -0.01");
        expect(() -> d.withTopP(1.5), "topP must be in [0, 1], got 1.5");
        expect(() -> d.withTopP(Double.NaN), "topP must be a finite number, got NaN");
        expect(() -> d.withTopK(-1), "topK must be 0 (off) or positive, got -1");
        expect(() -> d.withPresencePenalty(-1), "presencePenalty must be in [0, ∞], got -1.0");
        expect(() -> d.withFrequencyPenalty(Double.NaN), "frequencyPenalty must be a finite number, got NaN");
        expect(() -> d.withPenaltyDecay(1.01), "penaltyDecay must be in [0, 1], got 1.01");
        expect(() -> d.withMaxTokens(0), "maxTokens must be at least 1, got 0");
        expect(() -> d.withBannedTokens(-5), "bannedTokens must hold token ids ≥ 0, got -5");
        expect(() -> d.withStopTokens(-1), "stopTokens must hold token ids ≥ 0, got -1");
        expect(() -> d.withStopStrings(""), "stopStrings must not contain \"\"");
        List<String> withNull = new ArrayList<>();
        withNull.add(null);
        expect(() -> d.withStopStrings(withNull), "stopStrings must not contain null");
        assertThrows(NullPointerException.class, () -> new SamplerSettings(1, 1, 0, 0, 0, 1, null, Set.of(),
                List.of(), 1, OptionalLong.empty()));
    }

    @Test
    void collectionsAreCopied() {
        List<String> stops = new ArrayList<>(List.of("a"));
        SamplerSettings s = SamplerSettings.defaults().withStopStrings(stops);
        stops.add("b");
        assertEquals(List.of("a"), s.stopStrings());
        assertThrows(UnsupportedOperationException.class, () -> s.stopStrings().add("c"));
    }

    private static void expect(Supplier<SamplerSettings> make, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make::get);
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
