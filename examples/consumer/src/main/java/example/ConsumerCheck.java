package example;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.jrwkv.Logits;
import org.jrwkv.Rwkv;
import org.jrwkv.RwkvModel;
import org.jrwkv.RwkvState;

/**
 * Loads the tiny RWKV-7 test model through the jrwkv-platform dependency, evaluates the test
 * prompt and prints the logits; exits with 1 if they do not match the expected logits shipped
 * with the test data.
 */
public final class ConsumerCheck {

    private ConsumerCheck() {
    }

    /**
     * Runs the check.
     *
     * @param args the test data folder
     * @throws IOException if a file cannot be read
     */
    public static void main(String[] args) throws IOException {
        Path testdata = Path.of(args[0]);
        Path model = testdata.resolve("tiny/tiny-rwkv-7v0-834K-FP32.bin");
        float[] expected = readFloats(testdata.resolve("tiny/expected-logits-7v0-834K.bin"));

        System.out.println("classpath jars:");
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (entry.contains("jrwkv")) {
                System.out.println("  " + Path.of(entry).getFileName());
            }
        }
        System.out.println("engine: " + Rwkv.systemInfo());

        float[] values;
        try (RwkvModel rwkv = RwkvModel.load(model);
             RwkvState state = rwkv.newState();
             Logits logits = rwkv.newLogits()) {
            rwkv.evalSequence(new int[] {34, 105, 110}, state, logits);
            values = logits.toArray();
            System.out.println("model: " + model.getFileName() + ", n_vocab " + rwkv.vocabSize());
            System.out.println("argmax: " + logits.argmax());
        }
        System.out.println("logits[0..8): " + Arrays.toString(Arrays.copyOf(values, 8)));
        float diff = 0.0f;
        for (int i = 0; i < values.length; i++) {
            diff += values[i] - expected[i];
        }
        // rwkv.cpp's rule for an FP32 tiny model: |sum of differences| <= 0.001 (plus 5 %).
        boolean ok = values.length == expected.length && Math.abs(diff) <= 0.001f * 1.05f;
        System.out.printf("difference sum against the expected logits: %+.6f (%s)%n", diff, ok ? "ok" : "FAIL");
        if (!ok) {
            System.exit(1);
        }
    }

    private static float[] readFloats(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[bytes.remaining() / Float.BYTES];
        bytes.asFloatBuffer().get(values);
        return values;
    }
}
