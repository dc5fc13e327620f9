package org.jrwkv;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Properties;
import org.jrwkv.internal.NativeLib;
import org.jrwkv.internal.RwkvNative;

/** Library-wide operations: version, CPU features, quantization. */
public final class Rwkv {

    private Rwkv() {
    }

    /** The jrwkv version, e.g. {@code 0.1.0}. */
    public static String version() {
        try (InputStream in = Rwkv.class.getResourceAsStream("jrwkv.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The CPU features the engine uses on this machine, in rwkv.cpp's format
     * ({@code AVX=1 AVX2=1 ... VSX=0}) followed by jrwkv's own keys (e.g. {@code KERNELS=avx2}).
     */
    public static String systemInfo() {
        NativeLib.ensureLoaded();
        return NativeLib.string(RwkvNative.rwkv_get_system_info_string());
    }

    /**
     * Quantizes an FP32 or FP16 model file, producing a file byte-identical to rwkv.cpp's
     * quantizer's. The output is written to a temporary file beside {@code out} and renamed at
     * the end, so a failure leaves no output file (and an existing {@code out} unchanged).
     *
     * @param in     an FP32 or FP16 model file
     * @param out    the file to write
     * @param format one of the quantized types ({@link DataType#isQuantized()})
     * @throws IllegalArgumentException if {@code format} is not a quantized type
     * @throws RwkvException            if the input cannot be read or is not an FP32/FP16 model,
     *                                  or the output cannot be written
     */
    public static void quantize(Path in, Path out, DataType format) {
        Objects.requireNonNull(in, "in");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(format, "format");
        if (!format.isQuantized()) {
            throw new IllegalArgumentException("cannot quantize to " + format + "; choose one of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0");
        }
        NativeLib.applyThreadPrintFlag();
        boolean ok;
        try (NativeLib.Utf8 inPath = new NativeLib.Utf8(in.toString());
             NativeLib.Utf8 outPath = new NativeLib.Utf8(out.toString());
             NativeLib.Utf8 name = new NativeLib.Utf8(format.name())) {
            ok = RwkvNative.rwkv_quantize_model_file(inPath.pointer(), outPath.pointer(), name.pointer());
        }
        if (!ok) {
            throw NativeErrors.global("Cannot quantize " + in + " to " + format);
        }
    }
}
