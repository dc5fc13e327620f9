package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Loader;
import org.jrwkv.internal.RwkvNative;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA variant of the JNI library (the {@code linux-x86_64-cuda} classifier jar), as an
 * application loads it: {@code -Dorg.bytedeco.javacpp.platform.extension=-cuda}. Run only by the
 * {@code cuda} profile's own test execution (jrwkv.pom.xml), which puts target/classes-cuda on the
 * class path and sets that property; the default test run, which loads the CPU library, leaves it
 * out.
 *
 * <p>Without a CUDA device (this project's build machines) the variant must run every layer on
 * the CPU and match the reference; with one, offloaded layers must stay within the tolerance of
 * the C test (test_gpu_offload.c) of the same library's CPU run.
 */
class CudaVariantTest {

    private static final int[] PROMPT = {34, 105, 110};

    @Test
    void loaderPicksTheCudaLibrary() {
        String loaded = Loader.load(RwkvNative.class);
        assertTrue(loaded != null && loaded.contains("linux-x86_64-cuda"), "loaded " + loaded);
        assertTrue(Rwkv.systemInfo().contains(" GPU=cuda"), Rwkv.systemInfo());
    }

    static Stream<Arguments> files() {
        List<Arguments> rows = new ArrayList<>();
        for (String version : TestData.VERSIONS_WITH_SOURCES) {
            rows.add(Arguments.of(version, "FP32"));
            rows.add(Arguments.of(version, "FP16"));
        }
        for (String version : TestData.ALL_VERSIONS) {
            rows.add(Arguments.of(version, "Q5_1"));
        }
        return rows.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("files")
    void offloadedLayersGiveTheCpuLogits(String version, String type) {
        Path file = TestData.tiny(version, type);
        float[] cpu = run(file, 0, false);
        if (type.equals("FP32")) {
            // The variant's CPU path is the engine's: rwkv.cpp's FP32 threshold of the protocol.
            float[] expected = TestData.expectedLogits(version);
            float sum = 0f;
            for (int i = 0; i < expected.length; i++) {
                sum += cpu[i] - expected[i];
            }
            assertTrue(Math.abs(sum) <= 0.001f * 1.05f, version + " FP32 diff_sum " + sum);
        }
        int layers;
        try (RwkvModel model = RwkvModel.load(file, new ModelOptions(2, 0))) {
            layers = model.layerCount();
        }
        for (int gpuLayers : new int[] {1, layers / 2, layers, layers + 1}) {
            for (boolean sequence : new boolean[] {false, true}) {
                float[] offloaded = run(file, gpuLayers, sequence);
                float worst = 0f;
                float scale = 1f;
                for (int i = 0; i < cpu.length; i++) {
                    worst = Math.max(worst, Math.abs(offloaded[i] - cpu[i]));
                    scale = Math.max(scale, Math.abs(cpu[i]));
                }
                assertTrue(worst <= 0.02f * scale, String.format(Locale.ROOT,
                        "%s %s, %d GPU layers, %s: max |diff| %g (scale %g)", version, type, gpuLayers,
                        sequence ? "sequence" : "serial", worst, scale));
            }
        }
    }

    private static float[] run(Path file, int gpuLayers, boolean sequence) {
        try (RwkvModel model = RwkvModel.load(file, new ModelOptions(2, gpuLayers));
             RwkvState state = model.newState()) {
            if (sequence) {
                return model.evalSequence(PROMPT, state);
            }
            float[] logits = null;
            for (int token : PROMPT) {
                logits = model.eval(token, state);
            }
            return logits;
        }
    }
}
