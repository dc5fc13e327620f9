package org.jrwkv;

import java.util.Objects;

/**
 * One message of a conversation.
 *
 * @param role who wrote it
 * @param text what was written (for a user, as cleaned by {@link PromptFormat#cleanContent})
 */
public record ChatMessage(Role role, String text) {

    /** Who wrote a message. */
    public enum Role {
        /** The system prompt. */
        SYSTEM,
        /** The person. */
        USER,
        /** The model. */
        ASSISTANT
    }

    /** Checks the values. */
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(text, "text");
    }

    /** A user message. */
    public static ChatMessage user(String text) {
        return new ChatMessage(Role.USER, text);
    }

    /** An assistant message. */
    public static ChatMessage assistant(String text) {
        return new ChatMessage(Role.ASSISTANT, text);
    }
}
