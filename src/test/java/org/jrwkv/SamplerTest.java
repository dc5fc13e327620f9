package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Sampling against hand-computed distributions and the reference order of operations. */
class SamplerTest {

    /** Logits whose softmax is exactly proportional to {@code weights}. */
    private static float[] logitsOf(double... weights) {
        float[] x = new float[weights.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = weights[i] == 0 ? Float.NEGATIVE_INFINITY : (float) Math.log(weights[i]);
        }
        return x;
    }

    private static SamplerSettings plain() {
        return SamplerSettings.defaults().withPresencePenalty(0).withFrequencyPenalty(0).withSeed(1);
    }

    private static Set<Integer> kept(Sampler s, float[] logits) {
        float[] p = s.probabilities(logits);
        Set<Integer> ids = new TreeSet<>();
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                ids.add(i);
            }
        }
        return ids;
    }

    @Test
    void topPKeepsExactlyTheNucleusWithTies() {
        // Probabilities 0.5, 0.3, 0.1, 0.1 at ids 3, 0, 1, 2 (shuffled on purpose).
        float[] x = logitsOf(0.3, 0.1, 0.1, 0.5);
        assertEquals(Set.of(3), kept(new Sampler(plain().withTopP(0.5)), x)); // 0.5 ≥ 0.5
        assertEquals(Set.of(0, 3), kept(new Sampler(plain().withTopP(0.6)), x));
        assertEquals(Set.of(0, 3), kept(new Sampler(plain().withTopP(0.8)), x));
        // Cum reaches 0.85 at the first 0.1: the other 0.1 ties with the cutoff and stays.
        assertEquals(Set.of(0, 1, 2, 3), kept(new Sampler(plain().withTopP(0.85)), x));
        assertEquals(Set.of(0, 1, 2, 3), kept(new Sampler(plain().withTopP(1.0)), x));
        assertEquals(Set.of(3), kept(new Sampler(plain().withTopP(0)), x));
        float[] p = new Sampler(plain().withTopP(0.6)).probabilities(x);
        assertEquals(0.5 / 0.8, p[3], 1e-6);
        assertEquals(0.3 / 0.8, p[0], 1e-6);
    }

    @Test
    void topPOnALargeRandomVocabularyMatchesASortedReference() {
        Random random = new Random(42);
        for (int round = 0; round < 30; round++) {
            int n = 1 + random.nextInt(5000);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                // Coarse values make many ties.
                x[i] = round % 3 == 0 ? random.nextInt(8) : (float) (random.nextGaussian() * (1 + round % 5));
            }
            double topP = random.nextDouble();
            Set<Integer> expected = referenceNucleus(x, topP);
            assertEquals(expected, kept(new Sampler(plain().withTopP(topP)), x), "round " + round + " topP " + topP);
        }
    }

    /** The reference's steps literally: softmax, sort, running sum, cutoff, keep p ≥ cutoff. */
    private static Set<Integer> referenceNucleus(float[] x, double topP) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        double[] p = new double[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            p[i] = (float) Math.exp(x[i] - max);
            sum += p[i];
        }
        double[] sorted = p.clone();
        Arrays.sort(sorted);
        double cum = 0;
        double cutoff = sorted[sorted.length - 1];
        for (int i = sorted.length - 1; i >= 0; i--) {
            cum += sorted[i];
            if (cum >= topP * sum) {
                cutoff = sorted[i];
                break;
            }
        }
        Set<Integer> kept = new TreeSet<>();
        for (int i = 0; i < x.length; i++) {
            if (p[i] >= cutoff) {
                kept.add(i);
            }
        }
        return kept;
    }

    @Test
    void topKKeepsTheLargestWithTiesByLowerId() {
        float[] x = logitsOf(0.1, 0.4, 0.2, 0.2, 0.1);
        assertEquals(Set.of(1), kept(new Sampler(plain().withTopP(1).withTopK(1)), x));
        assertEquals(Set.of(1, 2), kept(new Sampler(plain().withTopP(1).withTopK(2)), x));
        assertEquals(Set.of(1, 2, 3), kept(new Sampler(plain().withTopP(1).withTopK(3)), x));
        assertEquals(Set.of(0, 1, 2, 3), kept(new Sampler(plain().withTopP(1).withTopK(4)), x));
        assertEquals(Set.of(0, 1, 2, 3, 4), kept(new Sampler(plain().withTopP(1).withTopK(0)), x));
        // Top-k after top-p: top-p 0.5 keeps {1, 2, 3} (0.4, then 0.2 reaches 0.6, tie kept).
        assertEquals(Set.of(1, 2, 3), kept(new Sampler(plain().withTopP(0.5)), x));
        assertEquals(Set.of(1, 2), kept(new Sampler(plain().withTopP(0.5).withTopK(2)), x));
        // Random check against sorting.
        Random random = new Random(8);
        float[] big = new float[20000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (float) random.nextGaussian();
        }
        Integer[] order = new Integer[big.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> big[a] != big[b] ? Float.compare(big[b], big[a]) : Integer.compare(a, b));
        Set<Integer> top = new TreeSet<>(Arrays.asList(order).subList(0, 37));
        assertEquals(top, kept(new Sampler(plain().withTopP(1).withTopK(37)), big));
    }

    @Test
    void temperatureChangesWeightsNotTheSet() {
        float[] x = logitsOf(0.5, 0.3, 0.1, 0.1);
        for (double t : new double[] {0.25, 1, 3}) {
            Sampler s = new Sampler(plain().withTopP(0.7).withTemperature(t));
            float[] p = s.probabilities(x);
            assertEquals(Set.of(0, 1), kept(s, x), "T=" + t);
            double a = Math.pow(0.5, 1 / t);
            double b = Math.pow(0.3, 1 / t);
            assertEquals(a / (a + b), p[0], 1e-6, "T=" + t);
        }
        // Temperature 0 is greedy.
        assertEquals(Set.of(0), kept(new Sampler(plain().withTemperature(0)), x));
    }

    @Test
    void greedyIsDeterministicAndKeepsOnlyTheMaximum() {
        Random random = new Random(1);
        float[] x = new float[65536];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        x[12345] = 10;
        for (long seed = 0; seed < 20; seed++) {
            assertEquals(12345, new Sampler(SamplerSettings.greedy().withSeed(seed)).sample(x));
            assertEquals(12345, new Sampler(plain().withTemperature(0).withSeed(seed)).sample(x));
        }
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        Random random = new Random(2);
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        SamplerSettings s = SamplerSettings.defaults().withTopP(1).withSeed(1234);
        int[] a = draws(new Sampler(s), x, 200);
        int[] b = draws(new Sampler(s), x, 200);
        int[] c = draws(new Sampler(s.withSeed(1235)), x, 200);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        // Logits buffers give the same draws as arrays.
        assertNotEquals(a[0], -1);
    }

    private static int[] draws(Sampler sampler, float[] x, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = sampler.sample(x);
            sampler.accept(out[i]);
        }
        return out;
    }

    @Test
    void drawsFollowTheDistribution() {
        float[] x = logitsOf(0.6, 0.3, 0.1);
        Sampler s = new Sampler(plain().withTopP(1).withSeed(5));
        int[] counts = new int[3];
        int n = 30000;
        for (int i = 0; i < n; i++) {
            counts[s.sample(x)]++;
        }
        // Standard deviations are about 0.003; allow 5 of them.
        assertEquals(0.6, counts[0] / (double) n, 0.015);
        assertEquals(0.3, counts[1] / (double) n, 0.015);
        assertEquals(0.1, counts[2] / (double) n, 0.015);
    }

    @Test
    void penaltiesActOnLogitsAsSpecified() {
        float[] x = {1f, 2f, 3f, 0.5f};
        SamplerSettings settings = SamplerSettings.defaults().withTopP(1).withPresencePenalty(0.4)
                .withFrequencyPenalty(0.3).withPenaltyDecay(0.5).withSeed(3);
        Sampler s = new Sampler(settings);
        s.accept(2);          // occ: {2: 1}
        s.accept(2);          // decay then add: {2: 1.5}
        s.accept(0, 0);       // {2: 0.75, 0: 0}: weight 0, still pays the presence penalty
        assertEquals(0.75, s.occurrence(2), 1e-7);
        assertEquals(0.0, s.occurrence(0), 0);
        float[] adjusted = {1f - 0.4f, 2f, 3f - (0.4f + 0.75f * 0.3f), 0.5f};
        assertArrayEquals(softmax(adjusted), s.probabilities(x), 1e-6f);
        s.resetPenalties();
        assertArrayEquals(softmax(x), s.probabilities(x), 1e-6f);
        // Weight rule of the reference: spaces, tabs and digit runs weigh 0.
        Tokenizer bytes = Tokenizer.bytes();
        assertEquals(0, Sampler.penaltyWeight(bytes, ' '));
        assertEquals(0, Sampler.penaltyWeight(bytes, '7'));
        assertEquals(1, Sampler.penaltyWeight(bytes, 'a'));
        WorldTokenizer world = TokenizerData.world();
        assertEquals(0, Sampler.penaltyWeight(world, world.encode("12")[0]));
        assertEquals(1, Sampler.penaltyWeight(world, world.encode("13")[0]));
        assertEquals(0, Sampler.penaltyWeight(world, 0)); // no text: the empty string matches
    }

    private static float[] softmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : x) {
            sum += Math.exp(v - max);
        }
        float[] p = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            p[i] = (float) (Math.exp(x[i] - max) / sum);
        }
        return p;
    }

    @Test
    void bannedTokensNeverAppear() {
        float[] x = logitsOf(0.7, 0.2, 0.1);
        Sampler s = new Sampler(plain().withTopP(1).withBannedTokens(0, 9999));
        for (int i = 0; i < 2000; i++) {
            assertNotEquals(0, s.sample(x));
        }
        Sampler greedy = new Sampler(SamplerSettings.greedy().withBannedTokens(0));
        assertEquals(1, greedy.sample(x));
        Sampler all = new Sampler(plain().withBannedTokens(0, 1, 2));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> all.sample(x));
        assertTrue(e.getMessage().contains("every token is banned"), e.getMessage());
    }

    @Test
    void nanLogitsAreRefused() {
        float[] x = {1f, Float.NaN, 0f};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Sampler(plain()).sample(x));
        assertTrue(e.getMessage().contains("token 1 is NaN"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Sampler(plain()).accept(-1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(plain()).accept(1, Double.NaN));
    }
}
