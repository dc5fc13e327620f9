package org.jrwkv.convert;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a large random-weight RWKV-7 checkpoint in torch's zip format (bf16 storages, the tensor
 * names and order of BlinkDL's releases), streaming, for measuring the converter's memory and time
 * on realistic sizes. Not a test; run by hand:
 *
 * <pre>
 * java -cp target/classes:target/test-classes:DEPS org.jrwkv.convert.BigCheckpoint OUT.pth [C L V]
 * </pre>
 * Defaults C=4096 L=32 V=65536 (the shape of a 7B model, about 14 GB).
 */
public final class BigCheckpoint {

    private record Spec(String name, long[] shape) {
        long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private BigCheckpoint() {
    }

    /** Writes the checkpoint. */
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        long c = args.length > 1 ? Long.parseLong(args[1]) : 4096;
        int layers = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        long vocab = args.length > 3 ? Long.parseLong(args[3]) : 65536;
        long f = 4 * c;
        long d = 128;
        long g = 512;
        long n = 64;
        List<Spec> specs = new ArrayList<>();
        specs.add(new Spec("emb.weight", new long[] {vocab, c}));
        for (int i = 0; i < layers; i++) {
            String b = "blocks." + i + ".";
            for (String ln : i == 0 ? new String[] {"ln1", "ln2", "ln0"} : new String[] {"ln1", "ln2"}) {
                specs.add(new Spec(b + ln + ".weight", new long[] {c}));
                specs.add(new Spec(b + ln + ".bias", new long[] {c}));
            }
            for (String x : new String[] {"r", "w", "k", "v", "a", "g"}) {
                specs.add(new Spec(b + "att.x_" + x, new long[] {1, 1, c}));
            }
            for (String lora : i == 0 ? new String[] {"w", "a", "g"} : new String[] {"w", "a", "v", "g"}) {
                long rank = lora.equals("g") ? g : d;
                specs.add(new Spec(b + "att." + lora + "1", new long[] {c, rank}));
                specs.add(new Spec(b + "att." + lora + "2", new long[] {rank, c}));
                if (!lora.equals("g")) {
                    specs.add(new Spec(b + "att." + lora + "0", new long[] {1, 1, c}));
                }
            }
            specs.add(new Spec(b + "att.k_k", new long[] {1, 1, c}));
            specs.add(new Spec(b + "att.k_a", new long[] {1, 1, c}));
            specs.add(new Spec(b + "att.r_k", new long[] {c / n, n}));
            for (String m : new String[] {"receptance", "key", "value", "output"}) {
                specs.add(new Spec(b + "att." + m + ".weight", new long[] {c, c}));
            }
            specs.add(new Spec(b + "att.ln_x.weight", new long[] {c}));
            specs.add(new Spec(b + "att.ln_x.bias", new long[] {c}));
            specs.add(new Spec(b + "ffn.x_k", new long[] {1, 1, c}));
            specs.add(new Spec(b + "ffn.key.weight", new long[] {f, c}));
            specs.add(new Spec(b + "ffn.value.weight", new long[] {c, f}));
        }
        specs.add(new Spec("ln_out.weight", new long[] {c}));
        specs.add(new Spec("ln_out.bias", new long[] {c}));
        specs.add(new Spec("head.weight", new long[] {vocab, c}));

        String folder = out.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        long total = 0;
        try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20);
                ZipOutputStream zip = new ZipOutputStream(file)) {
            zip.setMethod(ZipOutputStream.STORED);
            stored(zip, folder + "/data.pkl", pickle(specs));
            stored(zip, folder + "/byteorder", "little".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            for (int i = 0; i < specs.size(); i++) {
                long bytes = specs.get(i).numel() * 2;
                ZipEntry e = new ZipEntry(folder + "/data/" + i);
                e.setMethod(ZipEntry.STORED);
                e.setSize(bytes);
                e.setCompressedSize(bytes);
                e.setCrc(randomBf16(i, bytes, null));
                zip.putNextEntry(e);
                randomBf16(i, bytes, zip);
                zip.closeEntry();
                total += bytes;
            }
            stored(zip, folder + "/version", "3\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        System.out.printf("%s: %d tensors, %.2f GB of bf16 data%n", out, specs.size(), total / 1e9);
    }

    /** Streams {@code bytes} of random bf16 values in [-0.1, 0.1) for tensor {@code seed}; returns their CRC-32. */
    private static long randomBf16(long seed, long bytes, OutputStream out) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        CRC32 crc = new CRC32();
        byte[] buffer = new byte[1 << 20];
        for (long done = 0; done < bytes;) {
            int n = (int) Math.min(buffer.length, bytes - done);
            for (int i = 0; i < n; i += 2) {
                float v = (random.nextInt() >> 8) * (0.1f / (1 << 23));
                int bits = Float.floatToRawIntBits(v) >>> 16;
                buffer[i] = (byte) bits;
                buffer[i + 1] = (byte) (bits >>> 8);
            }
            if (out != null) {
                out.write(buffer, 0, n);
            } else {
                crc.update(buffer, 0, n);
            }
            done += n;
        }
        return crc.getValue();
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    private static byte[] pickle(List<Spec> specs) {
        PthWriter.Pickle p = new PthWriter.Pickle();
        p.op(0x80).op(2).op('}').op('(');
        for (int i = 0; i < specs.size(); i++) {
            Spec s = specs.get(i);
            p.str(s.name()).global("torch._utils", "_rebuild_tensor_v2").op('(');
            p.op('(').str("storage").global("torch", "BFloat16Storage").str(Integer.toString(i)).str("cuda:0")
                    .integer(s.numel()).op('t').op('Q');
            p.integer(0).op('(');
            for (long dim : s.shape()) {
                p.integer(dim);
            }
            p.op('t').op('(');
            long step = 1;
            long[] strides = new long[s.shape().length];
            for (int k = strides.length - 1; k >= 0; k--) {
                strides[k] = step;
                step *= s.shape()[k];
            }
            for (long st : strides) {
                p.integer(st);
            }
            p.op('t').op(0x89).global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
        }
        p.op('u').op('.');
        return p.bytes();
    }
}
