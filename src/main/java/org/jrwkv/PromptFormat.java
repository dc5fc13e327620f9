package org.jrwkv;

import java.util.List;
import java.util.Objects;

/**
 * The prompt formats RWKV models are trained on, as values. Each builds a {@link Prompt} whose
 * rules are enforced by construction:
 *
 * <ul>
 *   <li>sections are separated by a blank line ({@value #TURN_SEPARATOR}), the model's "end of
 *       turn", which is also the prompt's stop string (generation ends there);</li>
 *   <li>there is no space after the final colon ({@code Assistant:}, not {@code Assistant: }): the
 *       model expects the space to start its first token;</li>
 *   <li>content is cleaned by {@link #cleanContent}: {@code \r\n} → {@code \n}, runs of newlines
 *       → one {@code \n} (so content never holds the separator), surrounding whitespace
 *       stripped.</li>
 * </ul>
 *
 * <table>
 *   <caption>Formats</caption>
 *   <tr><th>format</th><th>prompt</th></tr>
 *   <tr><td>{@link Chat}</td><td>{@code [System: s\n\n]User: q\n\nAssistant:}</td></tr>
 *   <tr><td>{@link Instruction}</td><td>{@code Instruction: i\n\n[Input: x\n\n]Response:}</td></tr>
 *   <tr><td>{@link QuestionAnswer}</td><td>{@code Question: q\n\nAnswer:}</td></tr>
 *   <tr><td>{@link Raw}</td><td>the text as is, no stop string</td></tr>
 * </table>
 */
public sealed interface PromptFormat permits PromptFormat.Chat, PromptFormat.Instruction,
        PromptFormat.QuestionAnswer, PromptFormat.Raw {

    /** The end of a turn or section: a blank line. */
    String TURN_SEPARATOR = "\n\n";

    /**
     * The prompt for one request.
     *
     * @param content the user's text (cleaned here)
     * @throws IllegalArgumentException if the content is empty after cleaning (except for
     *                                  {@link Raw}, which only refuses an empty text)
     */
    Prompt prompt(String content);

    /** The RWKV chat format with the usual names ({@code User}, {@code Assistant}), no system. */
    static Chat chat() {
        return new Chat("User", "Assistant", "");
    }

    /** The RWKV chat format with a system prompt ({@code System: ...} before the first turn). */
    static Chat chat(String system) {
        return new Chat("User", "Assistant", system);
    }

    /** {@code Instruction: ...\n\nInput: ...\n\nResponse:}. */
    static Instruction instruction() {
        return new Instruction();
    }

    /** {@code Question: ...\n\nAnswer:}. */
    static QuestionAnswer questionAnswer() {
        return new QuestionAnswer("Question", "Answer");
    }

    /** Raw completion: the text as is. */
    static Raw raw() {
        return new Raw();
    }

    /**
     * Cleans user content: {@code \r\n} and lone {@code \r} become {@code \n}, every run of
     * newlines becomes one {@code \n}, and leading and trailing whitespace is stripped.
     */
    static String cleanContent(String content) {
        Objects.requireNonNull(content, "content");
        String s = content.replace("\r\n", "\n").replace('\r', '\n');
        return PromptRules.NEWLINES.matcher(s).replaceAll("\n").strip();
    }

    /**
     * The chat format: {@code User: q\n\nAssistant:}, turns separated by blank lines, an optional
     * {@code System: s\n\n} block first. Other names are allowed (RWKV-4 Raven used
     * {@code Bob}/{@code Alice}).
     *
     * @param user      the user's name, e.g. {@code User}
     * @param assistant the model's name, e.g. {@code Assistant}
     * @param system    the system prompt, or "" for none (cleaned like content)
     */
    record Chat(String user, String assistant, String system) implements PromptFormat {

        /** Checks the names and cleans the system prompt. */
        public Chat {
            PromptRules.check("user", user);
            PromptRules.check("assistant", assistant);
            system = cleanContent(system);
        }

        /** A copy with another system prompt ("" for none). */
        public Chat withSystem(String value) {
            return new Chat(user, assistant, value);
        }

        /** The block fed before the first turn: {@code System: s\n\n}, or "" without a system. */
        public String systemBlock() {
            return system.isEmpty() ? "" : "System: " + system + TURN_SEPARATOR;
        }

        /** One user turn, without the system block: {@code User: q\n\nAssistant:}. */
        public String userTurn(String content) {
            return user + ": " + PromptRules.nonEmpty(cleanContent(content)) + TURN_SEPARATOR + assistant + ":";
        }

        /** A single-turn prompt: the system block, then the user turn. */
        @Override
        public Prompt prompt(String content) {
            return new Prompt(systemBlock() + userTurn(content), List.of(TURN_SEPARATOR));
        }

        /**
         * A multi-turn prompt: the system block, then every message
         * ({@code User: q1\n\nAssistant: a1\n\nUser: q2\n\nAssistant:}), ending with the
         * assistant's name so that the model answers the last user message.
         *
         * @param messages user and assistant messages, the last one from the user; system
         *                 messages are not allowed here (use {@link #system()})
         */
        public Prompt conversation(List<ChatMessage> messages) {
            if (messages.isEmpty() || messages.get(messages.size() - 1).role() != ChatMessage.Role.USER) {
                throw new IllegalArgumentException("a conversation must end with a user message");
            }
            StringBuilder text = new StringBuilder(systemBlock());
            for (int i = 0; i < messages.size(); i++) {
                ChatMessage m = messages.get(i);
                switch (m.role()) {
                    case USER:
                        text.append(userTurn(m.text()));
                        break;
                    case ASSISTANT:
                        // The assistant's name and colon were written by the user turn before.
                        if (i == 0 || messages.get(i - 1).role() != ChatMessage.Role.USER) {
                            throw new IllegalArgumentException("message " + i + ": an assistant message must follow a "
                                    + "user message");
                        }
                        text.append(' ').append(cleanContent(m.text())).append(TURN_SEPARATOR);
                        break;
                    default:
                        throw new IllegalArgumentException("message " + i + ": system messages go in Chat.system()");
                }
                if (m.role() == ChatMessage.Role.USER && i + 1 < messages.size()
                        && messages.get(i + 1).role() != ChatMessage.Role.ASSISTANT) {
                    throw new IllegalArgumentException("message " + (i + 1) + ": a user message must be followed by an "
                            + "assistant message");
                }
            }
            return new Prompt(text.toString(), List.of(TURN_SEPARATOR));
        }
    }

    /**
     * The instruction format: {@code Instruction: i\n\nInput: x\n\nResponse:}, without the Input
     * section when there is no input. The instruction comes first: RWKV reads it, then the
     * material.
     */
    record Instruction() implements PromptFormat {

        /** An instruction without input. */
        @Override
        public Prompt prompt(String instruction) {
            return prompt(instruction, "");
        }

        /** An instruction and its input ("" for none). */
        public Prompt prompt(String instruction, String input) {
            String i = PromptRules.nonEmpty(cleanContent(instruction));
            String x = cleanContent(input);
            String text = "Instruction: " + i + TURN_SEPARATOR + (x.isEmpty() ? "" : "Input: " + x + TURN_SEPARATOR)
                    + "Response:";
            return new Prompt(text, List.of(TURN_SEPARATOR));
        }
    }

    /**
     * The question/answer format: {@code Question: q\n\nAnswer:} (the older World v1 cards used
     * {@code Q}/{@code A}: {@code new QuestionAnswer("Q", "A")}).
     *
     * @param question the question label
     * @param answer   the answer label
     */
    record QuestionAnswer(String question, String answer) implements PromptFormat {

        /** Checks the labels. */
        public QuestionAnswer {
            PromptRules.check("question", question);
            PromptRules.check("answer", answer);
        }

        @Override
        public Prompt prompt(String content) {
            return new Prompt(question + ": " + PromptRules.nonEmpty(cleanContent(content)) + TURN_SEPARATOR + answer + ":",
                    List.of(TURN_SEPARATOR));
        }
    }

    /** Raw completion: the text exactly as given, and no stop string. */
    record Raw() implements PromptFormat {
        @Override
        public Prompt prompt(String content) {
            return Prompt.of(content);
        }
    }
}
