package org.jrwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The incremental decoder against Java's whole-sequence decoder with replacement. */
class StreamingDecoderTest {

    @Test
    void randomByteStreamsDecodeLikeTheWholeSequence() {
        Random random = new Random(3);
        // Bytes biased towards the interesting ones: leads, continuations, invalid bytes.
        int[] pool = {'a', ' ', 0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1,
            0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
        Tokenizer bytes = Tokenizer.bytes();
        for (int round = 0; round < 3000; round++) {
            int n = random.nextInt(12);
            int[] ids = new int[n];
            byte[] raw = new byte[n];
            for (int i = 0; i < n; i++) {
                ids[i] = random.nextBoolean() ? pool[random.nextInt(pool.length)] : random.nextInt(256);
                raw[i] = (byte) ids[i];
            }
            StreamingDecoder decoder = new StreamingDecoder(bytes);
            StringBuilder out = new StringBuilder();
            for (int id : ids) {
                String piece = decoder.accept(id);
                WorldTokenizerTest.assertNoLoneSurrogate(piece);
                out.append(piece);
            }
            out.append(decoder.flush());
            assertEquals(bytes.decode(ids), out.toString());
            if (!hasEncodedSurrogate(raw)) {
                // Java's decoder agrees with Python's everywhere else.
                assertEquals(new String(raw, StandardCharsets.UTF_8), out.toString(), () -> java.util.HexFormat.of()
                        .formatHex(raw));
            }
        }
    }

    private static boolean hasEncodedSurrogate(byte[] raw) {
        for (int i = 0; i + 1 < raw.length; i++) {
            if ((raw[i] & 0xFF) == 0xED && (raw[i + 1] & 0xFF) >= 0xA0 && (raw[i + 1] & 0xFF) <= 0xBF) {
                return true;
            }
        }
        return false;
    }

    @Test
    void encodedSurrogatesAreOneReplacementPerByteAsInPython() {
        // Python: b'\xed\xa0\x80'.decode('utf-8', 'replace') == '\ufffd\ufffd\ufffd' (Java's
        // new String gives one U+FFFD); b'\xed\xbb\x1c\xf4\xe0\x9f\xf4' gives six.
        Tokenizer bytes = Tokenizer.bytes();
        assertEquals("\uFFFD\uFFFD\uFFFD", bytes.decode(new int[] {0xED, 0xA0, 0x80}));
        assertEquals("\uFFFD\uFFFD", bytes.decode(new int[] {0xED, 0xA0}));
        assertEquals("\uFFFD\uFFFD\u001C\uFFFD\uFFFD\uFFFD\uFFFD",
                bytes.decode(new int[] {0xED, 0xBB, 0x1C, 0xF4, 0xE0, 0x9F, 0xF4}));
        assertEquals("\uD55C", bytes.decode(new int[] {0xED, 0x95, 0x9C})); // 한: ED 80-9F is fine
    }

    @Test
    void holdsBackOnlyWhatCanStillBecomeValid() {
        StreamingDecoder d = new StreamingDecoder(Tokenizer.bytes());
        assertEquals("", d.accept(0xE4));
        assertTrue(d.hasPending());
        assertEquals("", d.accept(0xBD));
        assertEquals("\u4F60", d.accept(0xA0)); // 你
        assertFalse(d.hasPending());
        assertEquals("\uFFFD", d.accept(0xFF)); // never valid: at once
        assertEquals("", d.accept(0xF0));
        assertEquals("\uFFFDA", d.accept('A')); // a broken sequence is replaced when it breaks
        assertEquals("", d.accept(0xE0));
        assertEquals("\uFFFD\uFFFD", d.accept(0x80)); // E0 80 is never valid: both replaced
        assertEquals("", d.accept(0xC3));
        assertEquals("\uFFFD", d.flush());
        assertEquals("", d.flush());
        assertEquals("", d.accept(0xC3));
        d.reset();
        assertEquals("x", d.accept('x'));
    }
}
