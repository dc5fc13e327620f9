package org.jrwkv.internal.sampling;

/**
 * The reference pipeline's {@code sample_logits} as a filter over logits: which tokens may be drawn
 * and with what weights, without sorting the vocabulary.
 *
 * <p>The reference sorts all probabilities to find the top-p cutoff: the probability
 * {@code v = sorted[first i with cum(i) ≥ topP]}, keeping every token with probability ≥ v. That
 * v is the largest distinct probability whose tokens, together with all more probable ones,
 * reach topP, which does not depend on how ties are ordered. Here it is found by a "weighted
 * quickselect" (partition around a pivot; the side that holds the cutoff is the one where the
 * running mass crosses topP), in expected linear time, over only the tokens that can be kept at
 * all: a token with probability ≤ (1 − topP)/n never is, because the kept tokens' cutoff
 * satisfies v · n ≥ mass(p ≤ v) &gt; 1 − topP. Top-k likewise uses a selection, not a sort.
 *
 * <p>Probabilities are never normalized: softmax values {@code e_i = exp(x_i − max)} (float,
 * {@link FastExp}, as the reference computes them in float32) and their
 * sum S give the same decisions (cum ≥ topP·S), and the temperature step {@code p^(1/T)} only
 * needs the kept weights up to a common factor.
 *
 * <p>Internal: not part of the public API. Holds reusable buffers; not thread-safe.
 */
public final class Distribution {

    /** Ids of the tokens that may be drawn, ascending ({@link #count()} of them). */
    private int[] ids = new int[64];
    /** Their weights, not normalized. */
    private double[] weights = new double[64];
    private int count;
    private double total;

    private float[] exps = new float[0];
    private float[] select = new float[0];
    private int[] candidateIds = new int[0];
    private float[] candidateValues = new float[0];
    private long[] keys = new long[0];
    private long pivotState;

    /** Number of tokens that may be drawn. */
    public int count() {
        return count;
    }

    /** Id of kept token {@code i} (ascending ids). */
    public int id(int i) {
        return ids[i];
    }

    /** Weight of kept token {@code i}. */
    public double weight(int i) {
        return weights[i];
    }

    /** Sum of the weights. */
    public double total() {
        return total;
    }

    /**
     * Computes the tokens that may be drawn and their weights.
     *
     * @param logits      logits after bans and penalties (−∞ = never)
     * @param n           number of logits used
     * @param temperature ≥ 0; 0 means greedy
     * @param topP        in [0, 1]
     * @param topK        0 = off
     * @throws IllegalArgumentException if a logit is NaN
     * @throws IllegalStateException    if every logit is −∞
     */
    public void compute(float[] logits, int n, double temperature, double topP, int topK) {
        if (temperature == 0) {
            temperature = 1;
            topP = 0;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = logits[i];
            if (!(v <= max)) {
                if (v != v) {
                    throw new IllegalArgumentException("the logit of token " + i + " is NaN");
                }
                max = v;
            }
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalStateException("every token is banned or has a logit of -infinity");
        }
        count = 0;
        if (topP == 0) {
            // Greedy: the maximum, ties kept; all equally likely.
            for (int i = 0; i < n; i++) {
                if (logits[i] == max) {
                    add(i, 1.0);
                }
            }
            if (topK > 0 && count > topK) {
                count = topK; // ties by lower id
            }
            total = count;
            return;
        }
        if (exps.length < n) {
            exps = new float[n];
        }
        // Nucleus candidates are collected on the way: S ≥ 1 (the maximum's own e is 1), so
        // (1 − topP)/n · 0.5 is below the real floor computed in keepNucleus.
        boolean nucleus = topP < 1;
        float looseFloor = nucleus ? (float) ((1 - topP) / n * 0.5) : Float.POSITIVE_INFINITY;
        if (nucleus && candidateIds.length < n) {
            candidateIds = new int[n];
            candidateValues = new float[n];
        }
        int candidates = 0;
        for (int i = 0; i < n; i++) {
            float e = FastExp.exp(logits[i] - max);
            exps[i] = e;
            if (e > looseFloor) {
                candidateIds[candidates] = i;
                candidateValues[candidates] = e;
                candidates++;
            }
        }
        // Four partial sums: no long chain of dependent additions.
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int q = 0;
        for (; q + 3 < n; q += 4) {
            s0 += exps[q];
            s1 += exps[q + 1];
            s2 += exps[q + 2];
            s3 += exps[q + 3];
        }
        for (; q < n; q++) {
            s0 += exps[q];
        }
        double sum = (s0 + s1) + (s2 + s3);
        if (nucleus) {
            keepNucleus(n, candidates, sum, topP);
        } else {
            for (int i = 0; i < n; i++) {
                if (exps[i] > 0) {
                    add(i, exps[i]);
                }
            }
        }
        if (topK > 0 && topK < n && count > topK) {
            keepTopK(topK);
        }
        double inverse = 1 / temperature;
        total = 0;
        for (int j = 0; j < count; j++) {
            double w = inverse == 1 ? weights[j] : Math.pow(weights[j], inverse);
            weights[j] = w;
            total += w;
        }
    }

    private void keepNucleus(int n, int looseCandidates, double sum, double topP) {
        // Candidates: tokens that can reach the cutoff (half the bound, for rounding slack).
        double floor = (1 - topP) * sum / n * 0.5;
        if (select.length < looseCandidates) {
            select = new float[Math.max(looseCandidates, 64)];
        }
        int candidates = 0;
        double candidateMass = 0;
        for (int j = 0; j < looseCandidates; j++) {
            float e = candidateValues[j];
            if (e > floor) {
                candidateIds[candidates] = candidateIds[j];
                candidateValues[candidates] = e;
                select[candidates] = e;
                candidates++;
                candidateMass += e;
            }
        }
        double target = topP * sum;
        if (candidateMass < target) {
            // Only rounding can get here (topP within float error of 1): no cut.
            for (int i = 0; i < n; i++) {
                if (exps[i] > 0) {
                    add(i, exps[i]);
                }
            }
            return;
        }
        float cutoff = weightedSelect(select, candidates, target);
        for (int j = 0; j < candidates; j++) {
            if (candidateValues[j] >= cutoff) {
                add(candidateIds[j], candidateValues[j]);
            }
        }
    }

    /**
     * The largest value v of {@code a[0, size)} such that the values ≥ v sum to at least
     * {@code target} (which the whole array reaches).
     */
    private float weightedSelect(float[] a, int size, double target) {
        int lo = 0;
        int hi = size;
        pivotState = 0x2545F4914F6CDD1DL;
        while (true) {
            if (hi - lo == 1) {
                return a[lo];
            }
            float pivot = medianOfThree(a[randomIndex(lo, hi)], a[randomIndex(lo, hi)], a[randomIndex(lo, hi)]);
            // Three-way partition, descending: [lo, gt) > pivot, [gt, lt) == pivot, [lt, hi) < pivot.
            int gt = lo;
            int i = lo;
            int lt = hi;
            double above = 0;
            while (i < lt) {
                float v = a[i];
                if (v > pivot) {
                    a[i] = a[gt];
                    a[gt] = v;
                    above += v;
                    gt++;
                    i++;
                } else if (v < pivot) {
                    lt--;
                    a[i] = a[lt];
                    a[lt] = v;
                } else {
                    i++;
                }
            }
            double equal = (double) pivot * (lt - gt);
            if (above >= target) {
                hi = gt;
            } else if (above + equal >= target || lt == hi) {
                return pivot;
            } else {
                target -= above + equal;
                lo = lt;
            }
        }
    }

    private int randomIndex(int lo, int hi) {
        long x = pivotState;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        pivotState = x;
        return lo + (int) ((x >>> 1) % (hi - lo));
    }

    private static float medianOfThree(float a, float b, float c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }

    /** Keeps the {@code k} heaviest kept tokens; equal weights: lower ids first. */
    private void keepTopK(int k) {
        if (keys.length < count) {
            keys = new long[Math.max(count, 64)];
        }
        // Ascending keys = descending weight, then ascending id (weights are ≥ 0 floats, whose
        // bit patterns order like their values).
        for (int j = 0; j < count; j++) {
            keys[j] = ((long) (0x7FFFFFFF - Float.floatToIntBits((float) weights[j])) << 32) | ids[j];
        }
        long kth = selectKth(keys, count, k - 1);
        int kept = 0;
        for (int j = 0; j < count; j++) {
            long key = ((long) (0x7FFFFFFF - Float.floatToIntBits((float) weights[j])) << 32) | ids[j];
            if (key <= kth) {
                ids[kept] = ids[j];
                weights[kept] = weights[j];
                kept++;
            }
        }
        count = kept;
    }

    /** The {@code k}-th smallest (0-based) of distinct values {@code a[0, size)}; reorders a. */
    private long selectKth(long[] a, int size, int k) {
        int lo = 0;
        int hi = size - 1;
        pivotState = 0x9E3779B97F4A7C15L;
        while (lo < hi) {
            long pivot = a[lo + (int) (((pivotState = pivotState * 6364136223846793005L + 1442695040888963407L)
                    >>> 33) % (hi - lo + 1))];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (k <= j) {
                hi = j;
            } else if (k >= i) {
                lo = i;
            } else {
                return a[k];
            }
        }
        return a[k];
    }

    private void add(int id, double weight) {
        if (count == ids.length) {
            ids = java.util.Arrays.copyOf(ids, count * 2);
            weights = java.util.Arrays.copyOf(weights, count * 2);
        }
        ids[count] = id;
        weights[count] = weight;
        count++;
    }
}
