package org.jrwkv.internal.sampling;

/**
 * SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fully specified random generator whose whole
 * state is one {@code long}, so a sampler's position in its random stream can be saved with a
 * chat session and restored exactly, on any JDK.
 *
 * <p>Internal: not part of the public API. Not thread-safe.
 */
public final class SplitMix64 {

    private long state;

    /** A generator starting from {@code seed}. */
    public SplitMix64(long seed) {
        this.state = seed;
    }

    /** The next 64 random bits. */
    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A uniform double in [0, 1) (53 random bits). */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** The state, to resume the stream later with {@link #setState}. */
    public long state() {
        return state;
    }

    /** Resumes the stream from a saved state. */
    public void setState(long state) {
        this.state = state;
    }
}
