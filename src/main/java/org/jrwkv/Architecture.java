package org.jrwkv;

/**
 * RWKV model architecture, detected by the engine from the tensor names of a model file.
 */
public enum Architecture {
    /** RWKV-4. */
    V4(40, "4"),
    /** RWKV-5.1 (first multi-head version). */
    V5_1(51, "5.1"),
    /** RWKV-5.2 ("Eagle", gated). */
    V5_2(52, "5.2"),
    /** RWKV-6 ("Finch", data-dependent decay). */
    V6(60, "6"),
    /** RWKV-7 ("Goose"). */
    V7(70, "7");

    private final int code;
    private final String version;

    Architecture(int code, String version) {
        this.code = code;
        this.version = version;
    }

    /** The engine's code for this architecture ({@code enum rwkv_architecture}: 40, 51, 52, 60, 70). */
    public int code() {
        return code;
    }

    /** The version as people write it: "4", "5.1", "5.2", "6" or "7". */
    public String version() {
        return version;
    }

    /**
     * The architecture with the given engine code.
     *
     * @param code an {@code enum rwkv_architecture} value
     * @return the architecture
     * @throws IllegalArgumentException if the code is not one of a known architecture
     */
    public static Architecture fromCode(int code) {
        for (Architecture a : values()) {
            if (a.code == code) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown architecture code " + code);
    }
}
