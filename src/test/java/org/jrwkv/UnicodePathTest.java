package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models in folders and files whose names are not ASCII (Latin, Cyrillic, CJK and a character
 * outside the Basic Multilingual Plane) load and quantize through the Java API: the path reaches
 * the engine as UTF-8 (and, on Windows, the engine opens it with the wide-char API).
 */
class UnicodePathTest {

    private static final String NAME = "t\u00efny-\u043c\u043e\u0434\u0435\u043b\u044c-\u6a21\u578b-\ud83d\ude00";

    @Test
    void loadsAndQuantizesUnderNonAsciiNames(@TempDir Path temp) throws IOException {
        // A JVM whose file names are not UTF-8 (a POSIX locale) cannot name these files at all.
        assumeTrue(Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8")).equals(StandardCharsets.UTF_8),
                   "file names are not UTF-8 in this JVM");
        Path source = TestData.tiny("7v0-834K", "FP32");
        Path folder = Files.createDirectory(temp.resolve(NAME));
        Path copy = Files.copy(source, folder.resolve(NAME + "-FP32.bin"));
        Path quantized = folder.resolve(NAME + "-Q5_1.bin");

        float[] expected = logits(source);
        assertArrayEquals(expected, logits(copy));

        Rwkv.quantize(copy, quantized, DataType.Q5_1);
        assertTrue(Files.isRegularFile(quantized), "quantized file under its own name");
        Path reference = temp.resolve("ascii-Q5_1.bin");
        Rwkv.quantize(source, reference, DataType.Q5_1);
        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(quantized));
        assertArrayEquals(logits(reference), logits(quantized));
    }

    private static float[] logits(Path model) {
        try (RwkvModel rwkv = RwkvModel.load(model);
             RwkvState state = rwkv.newState();
             Logits logits = rwkv.newLogits()) {
            rwkv.evalSequence(new int[] {34, 105, 110}, state, logits);
            return logits.toArray();
        }
    }
}
