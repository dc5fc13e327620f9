package org.jrwkv.models;

import java.io.IOException;

/** A download that failed: not found, access denied, a network error, or a wrong size or checksum. */
public class DownloadException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed, naming the URL
     */
    public DownloadException(String message) {
        super(message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what failed, naming the URL
     * @param cause   the underlying failure
     */
    public DownloadException(String message, Throwable cause) {
        super(message, cause);
    }
}
