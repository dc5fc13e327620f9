package org.jrwkv;

/**
 * How to load a model.
 *
 * @param threads   worker threads used inside one evaluation (at least 1). Results do not depend
 *                  on it.
 * @param gpuLayers layers to place on a GPU backend (at least 0; {@code layerCount() + 1} also
 *                  offloads the head). Ignored by CPU-only builds, which are all builds so far.
 */
public record ModelOptions(int threads, int gpuLayers) {

    /** Checks the values. */
    public ModelOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (gpuLayers < 0) {
            throw new IllegalArgumentException("gpuLayers must be at least 0, got " + gpuLayers);
        }
    }

    /**
     * The defaults: as many threads as there are processors, at most 8 (beyond that, evaluation of
     * one token rarely gets faster), and no GPU layers.
     */
    public static ModelOptions defaults() {
        return new ModelOptions(Math.min(Runtime.getRuntime().availableProcessors(), 8), 0);
    }

    /** These options with another thread count. */
    public ModelOptions withThreads(int threads) {
        return new ModelOptions(threads, gpuLayers);
    }

    /** These options with another number of GPU layers. */
    public ModelOptions withGpuLayers(int gpuLayers) {
        return new ModelOptions(threads, gpuLayers);
    }
}
