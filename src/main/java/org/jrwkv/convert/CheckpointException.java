package org.jrwkv.convert;

import java.io.IOException;

/**
 * A checkpoint that cannot be read or converted: not a supported format, damaged or truncated,
 * refused for safety (a pickle that names code), or holding tensors that do not make a model of a
 * known architecture. The message names the file and what is wrong with it.
 */
public class CheckpointException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what is wrong, in one sentence
     */
    public CheckpointException(String message) {
        super(message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what is wrong, in one sentence
     * @param cause   the underlying failure
     */
    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
