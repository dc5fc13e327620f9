package org.jrwkv;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.jrwkv.internal.sampling.Distribution;
import org.jrwkv.internal.sampling.SplitMix64;

/**
 * Chooses the next token from a model's logits as the RWKV reference pipeline does
 * ({@code PIPELINE.sample_logits} with the penalties of {@code PIPELINE.generate}), with a seeded
 * random generator: the same settings, seed and logits give the same tokens, on any JDK.
 *
 * <p>Per token: copy the logits; banned tokens → −∞; for each token in the occurrence record,
 * subtract {@code presencePenalty + occurrence × frequencyPenalty}; softmax; keep the top-p nucleus
 * of that temperature-1 distribution (ties with the cutoff kept; top-p 0 keeps the maximum, top-p
 * 1 keeps everything); keep the top-k; raise to {@code 1/temperature}; normalize; draw. Temperature
 * 0 means top-p 0 (greedy). No sort of the vocabulary is needed (see the cost note below).
 *
 * <p>Penalties: {@link #accept(int, double)} records a generated token; it first multiplies every
 * recorded occurrence by {@code penaltyDecay}, then adds the token's weight. A recorded token pays
 * the full presence penalty even if its weight is 0.
 *
 * <p>Differences from the reference, all deliberate: top-p 1 keeps every token (the reference's
 * float32 running sum can miss 1.0 and fall back to greedy); the random stream is SplitMix64, not
 * numpy's, so the same seed gives other tokens than Python (the distribution is the same).
 *
 * <p>Cost: linear in the vocabulary, a few passes over the logits (copy, max, exp, a selection
 * among the tokens that can be in the nucleus); nothing is allocated per token once the buffers
 * have grown to the vocabulary size. Not thread-safe: one sampler per generation.
 */
public final class Sampler {

    private final SamplerSettings settings;
    private final int[] banned;
    private final SplitMix64 random;
    private final Distribution distribution = new Distribution();
    private float[] scratch = new float[0];

    /** Occurrence weights, by token id (grown to the vocabulary). */
    private float[] occurrence = new float[0];
    private boolean[] recorded = new boolean[0];
    /** The recorded ids, in the order they were first recorded. */
    private int[] recordedIds = new int[16];
    private int recordedCount;

    /**
     * A sampler with the given settings, seeded from {@link SamplerSettings#seed()} (or randomly
     * if it has none).
     */
    public Sampler(SamplerSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.banned = settings.bannedTokens().stream().mapToInt(Integer::intValue).sorted().toArray();
        this.random = new SplitMix64(settings.seed().orElseGet(() -> ThreadLocalRandom.current().nextLong()));
    }

    /** The settings. */
    public SamplerSettings settings() {
        return settings;
    }

    /**
     * Chooses a token.
     *
     * @param logits one logit per token (not modified)
     * @return the token id
     * @throws IllegalArgumentException if a logit is NaN
     * @throws IllegalStateException    if every token is banned (or has a logit of −∞)
     */
    public int sample(float[] logits) {
        Objects.requireNonNull(logits, "logits");
        int n = logits.length;
        float[] x = scratch(n);
        System.arraycopy(logits, 0, x, 0, n);
        return draw(x, n);
    }

    /**
     * Chooses a token from a logits buffer (not modified).
     *
     * @throws IllegalArgumentException if a logit is NaN
     * @throws IllegalStateException    if every token is banned, or the buffer is closed
     */
    public int sample(Logits logits) {
        Objects.requireNonNull(logits, "logits");
        int n = logits.length();
        float[] x = scratch(n);
        logits.copyTo(x);
        return draw(x, n);
    }

    /**
     * The distribution {@link #sample} draws from, for inspection: one probability per token,
     * zero for every token that cannot be drawn.
     *
     * @param logits one logit per token (not modified)
     * @return a new array of probabilities summing to 1
     */
    public float[] probabilities(float[] logits) {
        Objects.requireNonNull(logits, "logits");
        int n = logits.length;
        float[] x = scratch(n);
        System.arraycopy(logits, 0, x, 0, n);
        filter(x, n);
        float[] p = new float[n];
        for (int j = 0; j < distribution.count(); j++) {
            p[distribution.id(j)] = (float) (distribution.weight(j) / distribution.total());
        }
        return p;
    }

    private int draw(float[] x, int n) {
        filter(x, n);
        double r = random.nextDouble() * distribution.total();
        double cumulative = 0;
        int last = -1;
        for (int j = 0; j < distribution.count(); j++) {
            double w = distribution.weight(j);
            if (w > 0) {
                cumulative += w;
                last = distribution.id(j);
                if (r < cumulative) {
                    return last;
                }
            }
        }
        return last; // rounding: r reached the total
    }

    private void filter(float[] x, int n) {
        for (int id : banned) {
            if (id < n) {
                x[id] = Float.NEGATIVE_INFINITY;
            }
        }
        float presence = (float) settings.presencePenalty();
        float frequency = (float) settings.frequencyPenalty();
        if (presence != 0 || frequency != 0) {
            for (int j = 0; j < recordedCount; j++) {
                int id = recordedIds[j];
                if (id < n) {
                    x[id] -= presence + occurrence[id] * frequency;
                }
            }
        }
        distribution.compute(x, n, settings.temperature(), settings.topP(), settings.topK());
    }

    private float[] scratch(int n) {
        if (scratch.length < n) {
            scratch = new float[n];
        }
        return scratch;
    }

    /** Records a generated token with weight 1 (see {@link #accept(int, double)}). */
    public void accept(int token) {
        accept(token, 1);
    }

    /**
     * Records a generated token for the penalties: every recorded occurrence is multiplied by the
     * penalty decay, then {@code weight} is added to this token's. The reference pipeline gives
     * weight 0 to tokens whose text is a substring of {@code " \t0123456789"} (spaces, tabs,
     * digits), 1 to the others; see {@link #penaltyWeight(Tokenizer, int)}.
     *
     * @throws IllegalArgumentException if the token is negative or the weight is negative or NaN
     */
    public void accept(int token, double weight) {
        if (token < 0) {
            throw new IllegalArgumentException("token must be ≥ 0, got " + token);
        }
        if (!(weight >= 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException("weight must be a finite number ≥ 0, got " + weight);
        }
        float decay = (float) settings.penaltyDecay();
        for (int j = 0; j < recordedCount; j++) {
            occurrence[recordedIds[j]] *= decay;
        }
        if (token >= occurrence.length) {
            int size = Math.max(token + 1, Math.max(256, occurrence.length * 2));
            occurrence = Arrays.copyOf(occurrence, size);
            recorded = Arrays.copyOf(recorded, size);
        }
        if (!recorded[token]) {
            recorded[token] = true;
            if (recordedCount == recordedIds.length) {
                recordedIds = Arrays.copyOf(recordedIds, recordedCount * 2);
            }
            recordedIds[recordedCount++] = token;
        }
        occurrence[token] += (float) weight;
    }

    /** Forgets every recorded token (a new reply starts without penalties). */
    public void resetPenalties() {
        for (int j = 0; j < recordedCount; j++) {
            occurrence[recordedIds[j]] = 0;
            recorded[recordedIds[j]] = false;
        }
        recordedCount = 0;
    }

    /** The current occurrence weight of a token (0 if never recorded). */
    public double occurrence(int token) {
        return token >= 0 && token < occurrence.length ? occurrence[token] : 0;
    }

    /**
     * The reference pipeline's penalty weight of a token: 0 if its text is a contiguous substring
     * of {@code " \t0123456789"} (a space, a tab, digits in a row such as "12", or no text at all),
     * else 1.
     */
    public static double penaltyWeight(Tokenizer tokenizer, int token) {
        byte[] bytes = StreamingDecoder.bytesView(tokenizer, token);
        return isSpaceOrDigitRun(bytes) ? 0 : 1;
    }

    private static final byte[] FREE = {' ', '\t', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'};

    private static boolean isSpaceOrDigitRun(byte[] bytes) {
        if (bytes.length > FREE.length) {
            return false;
        }
        outer:
        for (int start = 0; start + bytes.length <= FREE.length; start++) {
            for (int i = 0; i < bytes.length; i++) {
                if (FREE[start + i] != bytes[i]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    // ---- for ChatSession: the position in the random stream ----

    long randomState() {
        return random.state();
    }

    void setRandomState(long state) {
        random.setState(state);
    }
}
