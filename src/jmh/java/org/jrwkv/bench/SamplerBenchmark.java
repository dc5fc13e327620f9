package org.jrwkv.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jrwkv.Sampler;
import org.jrwkv.SamplerSettings;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Time to choose one token from 65536 logits (a World model's vocabulary), penalties included
 * (200 tokens recorded, as after a 200-token reply).
 *
 * <p>{@code distribution}: "peaked" logits look like a language model's (a few likely tokens, a
 * long tail; the top-p nucleus is small); "flat" ones are random normal with σ = 1, the worst case
 * for top-p (the nucleus holds most of the vocabulary).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class SamplerBenchmark {

    /** Vocabulary size of World models. */
    static final int VOCAB = 65536;

    @Param({"peaked", "flat"})
    public String distribution;

    @Param({"pipeline", "chat", "greedy"})
    public String settings;

    private float[] logits;
    private Sampler sampler;

    /** Makes the logits and a sampler with 200 recorded tokens. */
    @Setup
    public void setUp() {
        Random random = new Random(1);
        logits = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            logits[i] = distribution.equals("flat") ? (float) random.nextGaussian()
                    : (float) (random.nextGaussian() * 2.5 - 8);
        }
        if (distribution.equals("peaked")) {
            for (int i = 0; i < 20; i++) {
                logits[random.nextInt(VOCAB)] = 6 + random.nextFloat() * 6;
            }
        }
        SamplerSettings s;
        switch (settings) {
            case "chat":
                s = SamplerSettings.chat();
                break;
            case "greedy":
                s = SamplerSettings.greedy();
                break;
            default:
                s = SamplerSettings.defaults();
                break;
        }
        sampler = new Sampler(s.withSeed(7));
        for (int i = 0; i < 200; i++) {
            sampler.accept(random.nextInt(VOCAB));
        }
    }

    /** One token. */
    @Benchmark
    public int sample() {
        return sampler.sample(logits);
    }
}
