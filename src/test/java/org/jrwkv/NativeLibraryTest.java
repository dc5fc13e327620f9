package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.Loader;
import org.jrwkv.internal.RwkvNative;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** The JNI library: loads, answers, and is self-contained. */
class NativeLibraryTest {

    @Test
    void loaderFindsTheLibraryAndTheEngineAnswers() {
        // Through JavaCPP's Loader, as an application would.
        String loaded = Loader.load(RwkvNative.class);
        assertTrue(loaded != null && loaded.contains("jniRwkvNative"), "loaded " + loaded);
        String info = Rwkv.systemInfo();
        assertTrue(info.matches("AVX=[01] AVX2=[01] AVX512=[01] FMA=[01] NEON=[01] ARM_FMA=[01] F16C=[01] "
                + "FP16_VA=[01] WASM_SIMD=[01] SSE3=[01] VSX=[01]( \\S+=\\S+)*"), info);
        assertEquals(Rwkv.systemInfo(), info, "the string is static");
    }

    @Test
    void constantsComeFromTheHeader() {
        assertEquals(0x67676d66, RwkvNative.RWKV_FILE_MAGIC);
        assertEquals(0x40E, RwkvNative.RWKV_ERROR_MODEL_PARAMS | RwkvNative.RWKV_ERROR_PARAM_MISSING);
        for (Architecture a : Architecture.values()) {
            assertEquals(a, Architecture.fromCode(a.code()));
        }
        assertEquals(RwkvNative.RWKV_ARCH_V5_2, Architecture.V5_2.code());
        assertEquals(RwkvNative.RWKV_TYPE_Q5_1, DataType.Q5_1.code());
        assertEquals(RwkvNative.RWKV_TYPE_Q8_0, DataType.Q8_0.code());
    }

    /** The engine is linked in statically: the JNI library needs no separate librwkv. */
    @Test
    @EnabledOnOs(OS.LINUX)
    void jniLibraryDoesNotDependOnASharedEngine() throws IOException, InterruptedException {
        Path lib = Path.of(System.getProperty("jrwkv.basedir", "."), "target", "classes", "org", "jrwkv",
                "internal", Loader.getPlatform(), "libjniRwkvNative.so");
        assertTrue(Files.isRegularFile(lib), lib + " missing");
        Process ldd = new ProcessBuilder("ldd", lib.toString()).redirectErrorStream(true).start();
        String out = new String(ldd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, ldd.waitFor(), out);
        assertFalse(out.contains("librwkv"), "JNI library depends on a shared engine:\n" + out);
        assertFalse(out.contains("not found"), out);
    }
}
