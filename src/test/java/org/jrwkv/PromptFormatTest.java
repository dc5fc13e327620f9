package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The prompt formats' templates and the rules they enforce. */
class PromptFormatTest {

    @Test
    void templates() {
        assertEquals(new Prompt("User: hi\n\nAssistant:", List.of("\n\n")), PromptFormat.chat().prompt("hi"));
        assertEquals("System: Be brief.\n\nUser: hi\n\nAssistant:",
                PromptFormat.chat("Be brief.").prompt("hi").text());
        assertEquals("Question: Why?\n\nAnswer:", PromptFormat.questionAnswer().prompt("Why?").text());
        assertEquals("Q: Why?\n\nA:", new PromptFormat.QuestionAnswer("Q", "A").prompt("Why?").text());
        assertEquals("Instruction: Sum up.\n\nInput: A text.\n\nResponse:",
                PromptFormat.instruction().prompt("Sum up.", "A text.").text());
        assertEquals("Instruction: Sum up.\n\nResponse:", PromptFormat.instruction().prompt("Sum up.").text());
        assertEquals("Instruction: Sum up.\n\nResponse:", PromptFormat.instruction().prompt("Sum up.", " \n ").text());
        assertEquals(Prompt.of("  raw\n\n text "), PromptFormat.raw().prompt("  raw\n\n text "));
        assertEquals(List.of(), PromptFormat.raw().prompt("x").stopStrings());
        assertEquals("Bob: hi\n\nAlice:", new PromptFormat.Chat("Bob", "Alice", "").prompt("hi").text());
    }

    @Test
    void contentCannotBreakTheFormat() {
        // No blank line inside content, no surrounding whitespace, no space after the last colon.
        assertEquals("User: a\nb\nc\n\nAssistant:", PromptFormat.chat().prompt("  a\n\n\nb\r\n\r\nc \n").text());
        assertEquals("a\nb", PromptFormat.cleanContent("a\r\rb"));
        for (PromptFormat f : List.of(PromptFormat.chat(), PromptFormat.instruction(), PromptFormat.questionAnswer())) {
            String text = f.prompt("q\n\n\nq").text();
            assertTrue(text.endsWith(":"), text);
            assertEquals(text.indexOf("\n\n"), text.indexOf("q\nq") + 3, text);
            assertThrows(IllegalArgumentException.class, () -> f.prompt(" \n\n "));
        }
        assertThrows(IllegalArgumentException.class, () -> PromptFormat.raw().prompt(""));
        assertThrows(IllegalArgumentException.class, () -> new PromptFormat.Chat("Us:er", "Assistant", ""));
        assertThrows(IllegalArgumentException.class, () -> new PromptFormat.Chat("User", " Assistant", ""));
        assertThrows(IllegalArgumentException.class, () -> new PromptFormat.Chat("User", "", ""));
        assertEquals("System: a\nb\n\n", PromptFormat.chat("a\n\nb").systemBlock());
    }

    @Test
    void conversations() {
        PromptFormat.Chat chat = PromptFormat.chat("S");
        Prompt p = chat.conversation(List.of(ChatMessage.user("q1"), ChatMessage.assistant(" a1\n\n"),
                ChatMessage.user("q2")));
        assertEquals("System: S\n\nUser: q1\n\nAssistant: a1\n\nUser: q2\n\nAssistant:", p.text());
        assertThrows(IllegalArgumentException.class, () -> chat.conversation(List.of(ChatMessage.assistant("a"))));
        assertThrows(IllegalArgumentException.class,
                () -> chat.conversation(List.of(ChatMessage.user("a"), ChatMessage.user("b"))));
        assertThrows(IllegalArgumentException.class, () -> chat.conversation(List.of()));
    }
}
