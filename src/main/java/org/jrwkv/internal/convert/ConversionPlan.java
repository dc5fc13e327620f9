package org.jrwkv.internal.convert;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jrwkv.Architecture;
import org.jrwkv.convert.CheckpointException;
import org.jrwkv.internal.checkpoint.CheckpointTensor;
import org.jrwkv.internal.tensor.ByteRegion;
import org.jrwkv.internal.tensor.ElementType;
import org.jrwkv.internal.tensor.TensorView;

/**
 * What rwkv.cpp's converter ({@code convert_pytorch_to_ggml.py}) would write for a checkpoint,
 * worked out from names and shapes alone before any data is read (converter.md B.1-B.7): the
 * architecture, the header values, and per output record its name, shape, storage type and
 * transforms, in checkpoint order. The names and shapes the loader needs are checked here, so a
 * wrong input fails with a message naming the tensor instead of producing an unloadable file.
 *
 * <p>Internal: not part of the public API.
 */
public final class ConversionPlan {

    /** Small tensors that need a copy (reshaping a non-contiguous view, RWKV-7 concatenation). */
    private static final int MATERIALIZE_LIMIT = 64 << 20;

    /** Keys kept in FP32 in an FP16 file (besides 1-D tensors), by substring. */
    private static final String[] FP32_KEYS = {".time_", ".k_k", ".k_a", ".r_k", ".x_rwkvag", ".x_k", ".w0", ".a0", ".v0"};

    /** RWKV-7 LoRA matrices, transposed by the converter (substring tests, as rwkv.cpp does). */
    private static final String[] V7_TRANSPOSED = {".w1", ".w2", ".a1", ".a2", ".v1", ".v2", ".g1", ".g2"};

    /** RWKV-7 token-shift vectors concatenated into {@code att.x_rwkvag}, in the order the loader assumes. */
    private static final String[] V7_SHIFT_ORDER = {"r", "w", "k", "v", "a", "g"};

    private static final Pattern V7_SHIFT = Pattern.compile("blocks\\.(\\d+)\\.att\\.x_(.*)");

    private final String source;
    private final Architecture architecture;
    private final int vocabSize;
    private final int embeddingSize;
    private final int layerCount;
    private final boolean fp16;
    private final List<OutputTensor> tensors;

    private ConversionPlan(String source, Architecture architecture, int vocabSize, int embeddingSize, int layerCount,
            boolean fp16, List<OutputTensor> tensors) {
        this.source = source;
        this.architecture = architecture;
        this.vocabSize = vocabSize;
        this.embeddingSize = embeddingSize;
        this.layerCount = layerCount;
        this.fp16 = fp16;
        this.tensors = tensors;
    }

    /** A planning step that transforms a shape and, identically, a view. */
    private interface Step {
        long[] shape(long[] in);

        TensorView view(TensorView in);
    }

    private static final Step SQUEEZE = new Step() {
        @Override
        public long[] shape(long[] in) {
            return Arrays.stream(in).filter(d -> d != 1).toArray();
        }

        @Override
        public TensorView view(TensorView in) {
            return in.squeeze();
        }
    };

    private static Step transpose(int a, int b) {
        return new Step() {
            @Override
            public long[] shape(long[] in) {
                if (in.length <= Math.max(a, b)) {
                    throw new IllegalArgumentException("cannot swap dimensions " + a + " and " + b + " of shape "
                            + Arrays.toString(in));
                }
                long[] out = in.clone();
                out[a] = in[b];
                out[b] = in[a];
                return out;
            }

            @Override
            public TensorView view(TensorView in) {
                return in.transpose(a, b);
            }
        };
    }

    /** Reshape to {@code make(shape)}; a non-contiguous view is copied first (these tensors are small). */
    private static Step reshape(java.util.function.UnaryOperator<long[]> make) {
        return new Step() {
            @Override
            public long[] shape(long[] in) {
                long[] out = make.apply(in);
                if (TensorView.checkedNumel(out) != TensorView.checkedNumel(in)) {
                    throw new IllegalArgumentException("cannot reshape " + Arrays.toString(in) + " to "
                            + Arrays.toString(out));
                }
                return out;
            }

            @Override
            public TensorView view(TensorView in) {
                TensorView v = in.isContiguous() ? in : in.materialize(MATERIALIZE_LIMIT);
                return v.reshape(make.apply(in.shape()));
            }
        };
    }

    private static long[] append(long[] in, long last) {
        long[] out = Arrays.copyOf(in, in.length + 1);
        out[in.length] = last;
        return out;
    }

    /**
     * Plans the conversion.
     *
     * @param source  a name for messages
     * @param tensors the checkpoint's tensors, in checkpoint order, with original RWKV names
     * @param fp16    whether FP16 output was requested
     * @throws CheckpointException if the tensors do not make a model of a known architecture
     */
    public static ConversionPlan create(String source, List<CheckpointTensor> tensors, boolean fp16)
            throws CheckpointException {
        Map<String, CheckpointTensor> byName = new LinkedHashMap<>();
        for (CheckpointTensor t : tensors) {
            if (byName.put(t.name(), t) != null) {
                throw new CheckpointException(source + ": duplicate tensor " + t.name());
            }
            if (!t.type().isConvertible()) {
                throw new CheckpointException(source + ": tensor " + t.name() + " holds " + t.type()
                        + " elements; only floating-point tensors (F32, F16, BF16, F64) can be converted");
            }
        }
        CheckpointTensor emb = byName.get("emb.weight");
        if (emb == null) {
            throw new CheckpointException(source + ": no emb.weight tensor (not an RWKV checkpoint?)");
        }
        if (emb.shape().length != 2) {
            throw new CheckpointException(source + ": emb.weight has shape " + Arrays.toString(emb.shape())
                    + ", expected [n_vocab, n_embed]");
        }
        long vocab = emb.shape()[0];
        long embed = emb.shape()[1];
        int layers = 0;
        while (byName.containsKey("blocks." + layers + ".ln1.weight")) {
            layers++;
        }
        if (layers == 0) {
            throw new CheckpointException(source + ": no blocks.0.ln1.weight tensor (not an RWKV checkpoint?)");
        }
        if (vocab < 1 || embed < 1 || vocab > Integer.MAX_VALUE || embed > Integer.MAX_VALUE) {
            throw new CheckpointException(source + ": emb.weight has implausible shape " + Arrays.toString(emb.shape()));
        }
        Architecture arch = detect(byName);
        Map<String, Long> context = new HashMap<>();
        if (arch == Architecture.V6) {
            CheckpointTensor faaaa = byName.get("blocks.0.att.time_faaaa");
            if (faaaa == null || faaaa.shape().length == 0) {
                throw new CheckpointException(source + ": missing tensor blocks.0.att.time_faaaa");
            }
            context.put("heads", faaaa.shape()[0]);
        }

        // RWKV-7: att.x_* of each layer become one x_rwkvag at the first one's position.
        Map<Integer, List<CheckpointTensor>> shifts = new HashMap<>();
        if (arch == Architecture.V7) {
            for (CheckpointTensor t : tensors) {
                Matcher m = V7_SHIFT.matcher(t.name());
                if (t.name().contains("att.x_")) {
                    if (!m.matches()) {
                        throw new CheckpointException(source + ": unexpected tensor " + t.name());
                    }
                    shifts.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new ArrayList<>()).add(t);
                }
            }
        }

        List<OutputTensor> out = new ArrayList<>();
        java.util.Set<Integer> shiftDone = new java.util.HashSet<>();
        for (CheckpointTensor t : tensors) {
            String name = t.name();
            if (arch == Architecture.V7 && name.contains("att.x_")) {
                Matcher m = V7_SHIFT.matcher(name);
                m.matches();
                int layer = Integer.parseInt(m.group(1));
                if (shiftDone.add(layer)) {
                    out.add(concatShifts(source, layer, shifts.get(layer)));
                }
                continue;
            }
            out.add(plan(source, arch, t, context, fp16));
        }
        ConversionPlan plan = new ConversionPlan(source, arch, (int) vocab, (int) embed, layers, fp16, List.copyOf(out));
        plan.check();
        return plan;
    }

    /** Architecture from key presence, first match wins (converter.md B.2). */
    static Architecture detect(Map<String, CheckpointTensor> byName) {
        if (byName.containsKey("blocks.0.att.k_k")) {
            return Architecture.V7;
        }
        if (byName.containsKey("blocks.0.att.time_maa_x")) {
            return Architecture.V6;
        }
        if (byName.containsKey("blocks.0.att.gate.weight")) {
            return Architecture.V5_2;
        }
        if (byName.containsKey("blocks.0.att.ln_x.weight")) {
            return Architecture.V5_1;
        }
        return Architecture.V4;
    }

    private static OutputTensor plan(String source, Architecture arch, CheckpointTensor t, Map<String, Long> context,
            boolean fp16Requested) throws CheckpointException {
        String k = t.name();
        List<Step> steps = new ArrayList<>();
        ValueOp op = ValueOp.IDENTITY;
        if (k.contains(".time_")) {
            steps.add(SQUEEZE);
        }
        switch (arch) {
            case V7:
                for (String s : V7_TRANSPOSED) {
                    if (k.contains(s)) {
                        steps.add(transpose(0, 1));
                        break;
                    }
                }
                break;
            case V6:
                if (k.contains(".time_faaaa")) {
                    steps.add(reshape(s -> append(s, 1)));
                }
                if (k.contains(".time_maa_w1") || k.contains(".time_decay_w")) {
                    steps.add(transpose(0, 1));
                }
                if (k.contains(".time_maa_w2")) {
                    steps.add(transpose(1, 2));
                }
                if (k.contains(".time_decay") && !k.contains("_w")) {
                    long heads = context.get("heads");
                    steps.add(reshape(s -> {
                        long n = TensorView.checkedNumel(s);
                        if (heads <= 0 || n % heads != 0) {
                            throw new IllegalArgumentException("cannot split " + n + " values into " + heads + " heads");
                        }
                        return new long[] {heads, n / heads, 1};
                    }));
                }
                break;
            case V5_2:
                if (k.contains(".time_decay")) {
                    op = ValueOp.EXP_NEG_EXP;
                    steps.add(reshape(s -> append(s, 1)));
                }
                if (k.contains(".time_faaaa")) {
                    steps.add(reshape(s -> append(s, 1)));
                }
                break;
            case V5_1:
                if (k.contains(".time_decay")) {
                    op = ValueOp.EXP_NEG_EXP;
                    steps.add(reshape(s -> new long[] {TensorView.checkedNumel(s), 1, 1}));
                }
                if (k.contains(".time_first")) {
                    op = ValueOp.EXP;
                    steps.add(reshape(s -> new long[] {TensorView.checkedNumel(s), 1, 1}));
                }
                break;
            case V4:
                if (k.contains(".time_decay")) {
                    op = ValueOp.NEG_EXP;
                }
                break;
            default:
                throw new AssertionError(arch);
        }
        long[] shape = t.shape();
        try {
            for (Step s : steps) {
                shape = s.shape(shape);
            }
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(source + ": tensor " + k + " of shape " + Arrays.toString(t.shape())
                    + " cannot be converted: " + e.getMessage());
        }
        if (shape.length < 1 || shape.length > 3) {
            throw new CheckpointException(source + ": tensor " + k + " has " + shape.length
                    + " dimensions after conversion " + Arrays.toString(shape) + "; model files hold 1 to 3");
        }
        boolean half = fp16Requested && shape.length >= 2 && Arrays.stream(FP32_KEYS).noneMatch(k::contains);
        List<Step> finalSteps = List.copyOf(steps);
        return new OutputTensor(k, shape, half, op, List.of(t), views -> {
            TensorView v = views.get(0);
            for (Step s : finalSteps) {
                v = s.view(v);
            }
            return v;
        });
    }

    private static OutputTensor concatShifts(String source, int layer, List<CheckpointTensor> found)
            throws CheckpointException {
        String prefix = "blocks." + layer + ".att.x_";
        List<CheckpointTensor> ordered = new ArrayList<>();
        for (String s : V7_SHIFT_ORDER) {
            CheckpointTensor t = found.stream().filter(x -> x.name().equals(prefix + s)).findFirst().orElse(null);
            if (t == null) {
                throw new CheckpointException(source + ": missing tensor " + prefix + s);
            }
            ordered.add(t);
        }
        if (found.size() != V7_SHIFT_ORDER.length) {
            throw new CheckpointException(source + ": unexpected att.x_ tensors in block " + layer + ": "
                    + found.stream().map(CheckpointTensor::name).filter(n -> !ordered.stream()
                            .anyMatch(o -> o.name().equals(n))).toList());
        }
        long[] first = ordered.get(0).shape();
        if (first.length == 0) {
            throw new CheckpointException(source + ": tensor " + prefix + "r is a scalar");
        }
        for (CheckpointTensor t : ordered) {
            if (!Arrays.equals(t.shape(), first)) {
                throw new CheckpointException(source + ": tensor " + t.name() + " has shape " + Arrays.toString(t.shape())
                        + ", unlike " + prefix + "r " + Arrays.toString(first));
            }
        }
        long[] shape = first.clone();
        shape[0] = first[0] * ordered.size();
        long per = TensorView.checkedNumel(first);
        if (per * ordered.size() > MATERIALIZE_LIMIT) {
            throw new CheckpointException(source + ": " + prefix + "* tensors too large");
        }
        // Concatenation along dim 0 of row-major tensors = their elements one after the other.
        return new OutputTensor("blocks." + layer + ".att.x_rwkvag", shape, false, ValueOp.IDENTITY, ordered, views -> {
            float[] values = new float[(int) (per * views.size())];
            for (int i = 0; i < views.size(); i++) {
                views.get(i).readFloats(0, (int) per, values, (int) (i * per));
            }
            return TensorView.contiguous(ByteRegion.ofFloats(values), ElementType.F32, shape);
        });
    }

    /** The names and shapes the loader needs (converter.md B.7), on the planned (converted) shapes. */
    private void check() throws CheckpointException {
        Map<String, long[]> shapes = new HashMap<>();
        for (OutputTensor t : tensors) {
            shapes.put(t.name, t.shape);
        }
        ShapeRules rules = new ShapeRules(source, shapes, embeddingSize);
        rules.require("emb.weight", vocabSize, embeddingSize);
        rules.require("head.weight", vocabSize, embeddingSize);
        rules.require("ln_out.weight", embeddingSize);
        rules.require("ln_out.bias", embeddingSize);
        rules.require("blocks.0.ln0.weight", embeddingSize);
        rules.require("blocks.0.ln0.bias", embeddingSize);
        long c = embeddingSize;
        long ffn = rules.dim("blocks.0.ffn.key.weight", 0);
        for (int i = 0; i < layerCount; i++) {
            String b = "blocks." + i + ".";
            for (String ln : new String[] {"ln1", "ln2"}) {
                rules.require(b + ln + ".weight", c);
                rules.require(b + ln + ".bias", c);
            }
            for (String m : new String[] {"key", "value", "receptance", "output"}) {
                rules.require(b + "att." + m + ".weight", c, c);
            }
            rules.require(b + "ffn.key.weight", ffn, c);
            rules.require(b + "ffn.value.weight", c, ffn);
            if (architecture != Architecture.V7) {
                rules.require(b + "ffn.receptance.weight", c, c);
            }
            if (architecture != Architecture.V4) {
                rules.require(b + "att.ln_x.weight", c);
                rules.require(b + "att.ln_x.bias", c);
            }
            switch (architecture) {
                case V4:
                case V5_1:
                case V5_2:
                    for (String s : architecture == Architecture.V5_2 ? new String[] {"k", "v", "r", "g"}
                            : new String[] {"k", "v", "r"}) {
                        rules.require(b + "att.time_mix_" + s, c);
                    }
                    rules.require(b + "ffn.time_mix_k", c);
                    rules.require(b + "ffn.time_mix_r", c);
                    if (architecture == Architecture.V4) {
                        rules.require(b + "att.time_decay", c);
                        rules.require(b + "att.time_first", c);
                    } else if (architecture == Architecture.V5_1) {
                        rules.requireHeads(b + "att.time_decay");
                        rules.requireHeads(b + "att.time_first");
                    } else {
                        rules.requireElements(b + "att.time_decay", c);
                        rules.requireElements(b + "att.time_faaaa", c);
                        rules.require(b + "att.gate.weight", c, c);
                    }
                    break;
                case V6: {
                    for (String s : new String[] {"x", "w", "k", "v", "r", "g"}) {
                        rules.require(b + "att.time_maa_" + s, c);
                    }
                    long mix = rules.dim(b + "att.time_maa_w1", 0);
                    rules.require(b + "att.time_maa_w1", mix, c);
                    rules.require(b + "att.time_maa_w2", 5, c, mix / 5);
                    long decay = rules.dim(b + "att.time_decay_w1", 0);
                    rules.require(b + "att.time_decay_w1", decay, c);
                    rules.require(b + "att.time_decay_w2", c, decay);
                    rules.requireElements(b + "att.time_decay", c);
                    rules.requireElements(b + "att.time_faaaa", c);
                    rules.require(b + "att.gate.weight", c, c);
                    rules.require(b + "ffn.time_maa_k", c);
                    rules.require(b + "ffn.time_maa_r", c);
                    break;
                }
                case V7: {
                    rules.require(b + "att.x_rwkvag", 6, 1, c);
                    for (String v : i == 0 ? new String[] {"w0", "a0", "k_k", "k_a"}
                            : new String[] {"w0", "a0", "v0", "k_k", "k_a"}) {
                        rules.require(b + "att." + v, 1, 1, c);
                    }
                    for (String lora : i == 0 ? new String[] {"w", "a", "g"} : new String[] {"w", "a", "v", "g"}) {
                        long rank = rules.dim(b + "att." + lora + "1", 0);
                        rules.require(b + "att." + lora + "1", rank, c);
                        rules.require(b + "att." + lora + "2", c, rank);
                    }
                    rules.requireElements(b + "att.r_k", c);
                    rules.require(b + "ffn.x_k", 1, 1, c);
                    break;
                }
                default:
                    throw new AssertionError(architecture);
            }
        }
    }

    /** The detected architecture. */
    public Architecture architecture() {
        return architecture;
    }

    /** Header n_vocab. */
    public int vocabSize() {
        return vocabSize;
    }

    /** Header n_embed. */
    public int embeddingSize() {
        return embeddingSize;
    }

    /** Header n_layer. */
    public int layerCount() {
        return layerCount;
    }

    /** Whether FP16 output was requested (header data_type 1). */
    public boolean fp16() {
        return fp16;
    }

    /** Number of records. */
    public int tensorCount() {
        return tensors.size();
    }

    /** Output records in order. */
    List<OutputTensor> tensors() {
        return tensors;
    }

    /** Size of the output file in bytes. */
    public long outputBytes() {
        long n = ModelFileWriter.HEADER_BYTES;
        for (OutputTensor t : tensors) {
            n += t.recordBytes();
        }
        return n;
    }
}
