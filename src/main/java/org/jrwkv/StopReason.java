package org.jrwkv;

/** Why generation ended. */
public enum StopReason {
    /** The model produced the tokenizer's end-of-text token (not emitted). */
    END_OF_TEXT,
    /** The model produced one of the settings' stop tokens (not emitted). */
    STOP_TOKEN,
    /** The text reached a stop string (emitted up to it, not including it). */
    STOP_STRING,
    /** The settings' token limit was reached. */
    MAX_TOKENS,
    /** {@code cancel()} was called. */
    CANCELLED
}
