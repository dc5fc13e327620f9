package org.jrwkv.internal;

import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;

/**
 * Loads the JNI library once and holds what every native-backed class shares: the cleaner that
 * frees forgotten native memory, the print-errors setting and UTF-8 string conversion.
 *
 * <p>Internal: not part of the public API.
 */
public final class NativeLib {

    /** System property that turns the engine's own error messages on stderr back on. */
    public static final String PRINT_NATIVE_ERRORS = "jrwkv.printNativeErrors";

    private static final Cleaner CLEANER = Cleaner.create();

    private NativeLib() {
    }

    /** Lazily loads the library; the holder idiom makes the attempt exactly once, thread-safely. */
    private static final class Holder {
        static final Throwable FAILURE = tryLoad();

        private static Throwable tryLoad() {
            try {
                Loader.load(RwkvNative.class);
                return null;
            } catch (UnsatisfiedLinkError | ExceptionInInitializerError | NoClassDefFoundError e) {
                return e;
            }
        }
    }

    /**
     * Makes sure the native library is loaded.
     *
     * @throws UnsatisfiedLinkError with a message that names the missing platform jar
     */
    public static void ensureLoaded() {
        Throwable failure = Holder.FAILURE;
        if (failure != null) {
            String platform = Loader.getPlatform();
            UnsatisfiedLinkError error = new UnsatisfiedLinkError(
                    "jrwkv: cannot load the native library for platform " + platform
                            + "; is org.jrwkv:jrwkv:<version>:" + platform
                            + " on the class path? (" + failure + ")");
            error.initCause(failure);
            throw error;
        }
    }

    /** The cleaner shared by every native resource of jrwkv (one daemon thread). */
    public static Cleaner cleaner() {
        return CLEANER;
    }

    /**
     * Whether the engine should print its own error messages to stderr. Off by default: the Java
     * layer puts every message into an exception instead. Read on every call, so that a tool can
     * switch it on at run time (e.g. the CLI's {@code --debug}).
     */
    public static boolean printNativeErrors() {
        return Boolean.getBoolean(PRINT_NATIVE_ERRORS);
    }

    /**
     * Sets the calling thread's global print flag (the engine keeps it per thread, and it governs
     * load, clone and quantize, and the default of new contexts) to {@link #printNativeErrors()}.
     */
    public static void applyThreadPrintFlag() {
        ensureLoaded();
        RwkvNative.rwkv_set_print_errors(null, printNativeErrors());
    }

    /**
     * A NUL-terminated UTF-8 copy of a Java string in native memory, for one call. (JavaCPP's own
     * String arguments use JNI's "modified UTF-8", which differs from UTF-8 for characters outside
     * the Basic Multilingual Plane; paths must be real UTF-8.)
     */
    public static final class Utf8 implements AutoCloseable {
        private final BytePointer pointer;

        /** Copies {@code s}. */
        public Utf8(String s) {
            ensureLoaded();
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            Pointer raw = Pointer.malloc(bytes.length + 1L);
            if (raw == null || raw.isNull()) {
                throw new OutOfMemoryError("cannot allocate a string of " + bytes.length + " bytes");
            }
            pointer = new BytePointer(raw).capacity(bytes.length + 1L);
            pointer.put(bytes).put(bytes.length, (byte) 0);
        }

        /** The native string. */
        public BytePointer pointer() {
            return pointer;
        }

        /** Frees the native copy. */
        @Override
        public void close() {
            Pointer.free(pointer);
        }
    }

    /** Decodes a NUL-terminated UTF-8 string owned by the library; null becomes "". */
    public static String string(BytePointer p) {
        return p == null || p.isNull() ? "" : p.getString(StandardCharsets.UTF_8);
    }
}
