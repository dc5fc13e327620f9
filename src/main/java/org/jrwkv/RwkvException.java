package org.jrwkv;

import java.util.Locale;

/**
 * A failure reported by the native engine: a model file that cannot be loaded, a quantization that
 * fails, an evaluation the engine refuses. Carries the engine's error flags, decoded, and its
 * message.
 *
 * <p>The flags are a {@linkplain Category category} (second byte) OR-ed with a
 * {@linkplain Detail detail} (low byte): a truncated model file is
 * {@code MODEL_PARAMS | FILE_READ} = 0x404, a missing file {@code FILE | FILE_OPEN} = 0x202.
 * Mistakes the Java layer can see before calling the engine (a token out of range, a buffer of
 * the wrong size) are {@link IllegalArgumentException}s instead, and using a closed object is an
 * {@link IllegalStateException}.
 */
public final class RwkvException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The category of a failure: what kind of operation or input failed. */
    public enum Category {
        /** No category set (a detail on its own, or no error). */
        NONE(0),
        /** A bad argument to an API call. */
        ARGS(0x100),
        /** The model file: opening, reading, header. */
        FILE(0x200),
        /** The model (declared by rwkv.cpp, unused). */
        MODEL(0x300),
        /** Tensor records and parameters of the model file. */
        MODEL_PARAMS(0x400),
        /** The computation graph (declared by rwkv.cpp, unused). */
        GRAPH(0x500),
        /** Context creation. */
        CTX(0x600),
        /** A category this version of jrwkv does not know. */
        UNKNOWN(-1);

        private final int value;

        Category(int value) {
            this.value = value;
        }

        /** The category's bits ({@code flags & 0xFF00}); -1 for {@link #UNKNOWN}. */
        public int value() {
            return value;
        }

        static Category of(int flags) {
            int v = flags & 0xFF00;
            for (Category c : values()) {
                if (c.value == v) {
                    return c;
                }
            }
            return UNKNOWN;
        }
    }

    /** The detail of a failure: what exactly went wrong. */
    public enum Detail {
        /** No detail set. */
        NONE(0, null),
        /** Memory allocation failed. */
        ALLOC(1, "out of memory"),
        /** The file cannot be opened. */
        FILE_OPEN(2, "cannot open the file"),
        /** The file's size cannot be read. */
        FILE_STAT(3, "cannot read the file's size"),
        /** Reading failed: the file is truncated or unreadable. */
        FILE_READ(4, "file is truncated or unreadable"),
        /** Writing failed. */
        FILE_WRITE(5, "cannot write the file"),
        /** Wrong magic number: not an rwkv.cpp model file. */
        FILE_MAGIC(6, "not an RWKV model file (wrong magic number)"),
        /** Unsupported file version. */
        FILE_VERSION(7, "unsupported file version"),
        /** Unsupported, removed or out-of-range data type. */
        DATA_TYPE(8, "unsupported data type"),
        /** Unsupported feature. */
        UNSUPPORTED(9, "unsupported feature"),
        /** A tensor has the wrong number of dimensions. */
        SHAPE(10, "a tensor has the wrong number of dimensions"),
        /** A tensor has a wrong size. */
        DIMENSION(11, "a tensor has the wrong size"),
        /** Duplicate tensor name. */
        KEY(12, "duplicate tensor name"),
        /** Tensor data cannot be read. */
        DATA(13, "tensor data cannot be read"),
        /** A required tensor is missing. */
        PARAM_MISSING(14, "a required tensor is missing"),
        /** A detail this version of jrwkv does not know. */
        UNKNOWN(-1, null);

        private final int value;
        private final String description;

        Detail(int value, String description) {
            this.value = value;
            this.description = description;
        }

        /** The detail's bits ({@code flags & 0xFF}); -1 for {@link #UNKNOWN}. */
        public int value() {
            return value;
        }

        static Detail of(int flags) {
            int v = flags & 0xFF;
            for (Detail d : values()) {
                if (d.value == v) {
                    return d;
                }
            }
            return UNKNOWN;
        }
    }

    /** The engine's error flags. */
    private final int flags;
    /** The engine's message, never null. */
    private final String nativeMessage;

    /**
     * Creates the exception for a native failure.
     *
     * @param action        what was being done, e.g. "Cannot load model /x.bin"
     * @param flags         the engine's error flags
     * @param nativeMessage the engine's message (may be empty)
     */
    RwkvException(String action, int flags, String nativeMessage) {
        super(describe(action, flags, nativeMessage));
        this.flags = flags;
        this.nativeMessage = nativeMessage == null ? "" : nativeMessage;
    }

    /** The engine's error flags, e.g. 0x404. */
    public int flags() {
        return flags;
    }

    /** The decoded category ({@code flags & 0xFF00}). */
    public Category category() {
        return Category.of(flags);
    }

    /** The decoded detail ({@code flags & 0xFF}). */
    public Detail detail() {
        return Detail.of(flags);
    }

    /** The engine's own message for the failure, as {@code rwkv_get_last_error_message} gave it. */
    public String nativeMessage() {
        return nativeMessage;
    }

    private static String describe(String action, int flags, String nativeMessage) {
        StringBuilder sb = new StringBuilder(action).append(": ").append(plain(flags));
        sb.append(" (error 0x").append(String.format(Locale.ROOT, "%03X", flags));
        if (nativeMessage != null && !nativeMessage.isEmpty()) {
            sb.append(": ").append(nativeMessage);
        }
        return sb.append(')').toString();
    }

    /** A plain-language reading of the flags, most specific first. */
    private static String plain(int flags) {
        Detail detail = Detail.of(flags);
        if (detail.description != null) {
            return detail.description;
        }
        switch (Category.of(flags)) {
            case ARGS:
                return "invalid argument";
            case FILE:
                return "bad model file";
            case MODEL:
            case MODEL_PARAMS:
                return "bad model parameters";
            case CTX:
                return "cannot create a context";
            case NONE:
                return flags == 0 ? "unknown error" : "error";
            default:
                return "error";
        }
    }
}
