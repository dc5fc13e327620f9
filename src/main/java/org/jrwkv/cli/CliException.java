package org.jrwkv.cli;

/** A failure the CLI reports as one line, without a stack trace (unless --debug). */
final class CliException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    CliException(String message) {
        super(message);
    }
}
