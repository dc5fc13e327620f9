package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The Java example of README.md, as written there (with the test data's path). */
class ReadmeExampleTest {

    @Test
    void exampleRunsAndGeneratesTwentyBytes() {
        Path file = TestData.tiny("7v0-834K", "FP32");
        StringBuilder text = new StringBuilder();
        // ---- README example ----
        try (RwkvModel model = RwkvModel.load(file);
             RwkvState state = model.newState();
             Logits logits = model.newLogits()) {
            int[] prompt = {'h', 'e', 'l', 'l', 'o'};
            model.evalSequence(prompt, state, logits);
            for (int i = 0; i < 20; i++) {
                int next = logits.argmax();
                text.append((char) next);
                model.eval(next, state, logits);
            }
        }
        // ---- end ----
        System.out.println("README example: \"hello\" + \"" + text + "\"");
        assertEquals(20, text.length());
    }
}
