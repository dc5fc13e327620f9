package org.jrwkv.internal.checkpoint;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.jrwkv.convert.CheckpointException;
import org.jrwkv.internal.checkpoint.TorchResolver.StorageRef;
import org.jrwkv.internal.checkpoint.TorchResolver.TorchTensor;
import org.jrwkv.internal.pickle.PickleMachine;
import org.jrwkv.internal.pickle.PyDict;
import org.jrwkv.internal.tensor.ByteRegion;
import org.jrwkv.internal.tensor.TensorView;
import org.jrwkv.internal.zip.ZipDirectory;
import org.jrwkv.internal.zip.ZipRecord;

/**
 * A PyTorch zip checkpoint ({@code torch.save} since torch 1.6): the central directory, the
 * {@code data.pkl} pickle run through the whitelisting {@link TorchResolver}, and every tensor
 * checked against its storage record before anything is mapped (converter.md A.2-A.6).
 *
 * <p>The top-level object must be a {@code dict} or {@code OrderedDict} whose values are all
 * tensors; other layouts (training checkpoints with {@code state_dict}, epochs, optimizer
 * state) are refused with a message that says what was found.
 *
 * <p>Internal: not part of the public API.
 */
public final class TorchCheckpoint implements Checkpoint {

    private final String source;
    private final FileChannel channel;
    private final List<CheckpointTensor> tensors;
    private final boolean ordered;

    private TorchCheckpoint(String source, FileChannel channel, List<CheckpointTensor> tensors, boolean ordered) {
        this.source = source;
        this.channel = channel;
        this.tensors = tensors;
        this.ordered = ordered;
    }

    /**
     * Opens and validates a checkpoint; its tensors are mapped only when asked for.
     *
     * @throws CheckpointException if the file is not a valid, safe torch zip checkpoint of tensors
     * @throws IOException         if reading fails
     */
    public static TorchCheckpoint open(Path path) throws IOException {
        String source = String.valueOf(path.getFileName());
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            TorchCheckpoint c = read(source, channel);
            channel = null;
            return c;
        } finally {
            if (channel != null) {
                channel.close();
            }
        }
    }

    private static TorchCheckpoint read(String source, FileChannel channel) throws IOException {
        ZipDirectory zip = ZipDirectory.read(source, channel);
        Map<String, ZipRecord> records = zip.records();
        if (records.containsKey("constants.pkl") || records.keySet().stream().anyMatch(n -> n.startsWith("code/"))) {
            throw new CheckpointException(source + ": a TorchScript archive (torch.jit.save), not a state dict");
        }
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        ZipRecord byteorder = records.get("byteorder");
        if (byteorder != null) {
            String value = new String(zip.readSmall(byteorder), StandardCharsets.US_ASCII).trim();
            if (value.equals("big")) {
                order = ByteOrder.BIG_ENDIAN;
            } else if (!value.equals("little")) {
                throw new CheckpointException(source + ": unknown byteorder '" + value + "'");
            }
        }
        ZipRecord pkl = records.get("data.pkl");
        if (pkl == null) {
            throw new CheckpointException(source + ": no data.pkl record (not a torch checkpoint)");
        }
        TorchResolver resolver = new TorchResolver(source);
        Object root = PickleMachine.load(source + ": data.pkl", zip.readSmall(pkl), resolver);
        if (!(root instanceof PyDict)) {
            throw new CheckpointException(source + ": holds a " + describe(root) + ", not a state dict (a dict of tensors)");
        }
        PyDict dict = (PyDict) root;

        // Every storage: its record exists and has exactly numel x element size bytes.
        for (StorageRef ref : resolver.storages().values()) {
            ZipRecord r = records.get("data/" + ref.key());
            if (r == null) {
                throw new CheckpointException(source + ": storage " + ref.key() + " has no data/" + ref.key()
                        + " record (truncated or damaged checkpoint)");
            }
            int elementSize = ref.storageClass().type() == null ? 1 : ref.storageClass().type().size();
            long expected;
            try {
                expected = Math.multiplyExact(ref.numel(), elementSize);
            } catch (ArithmeticException e) {
                expected = -1;
            }
            if (expected != r.size()) {
                throw new CheckpointException(source + ": storage " + ref.key() + " declares " + ref.numel()
                        + " elements of " + elementSize + " bytes but its record holds " + r.size() + " bytes");
            }
        }

        List<CheckpointTensor> tensors = new ArrayList<>();
        for (Map.Entry<Object, Object> e : dict.entries().entrySet()) {
            if (!(e.getKey() instanceof String)) {
                throw new CheckpointException(source + ": state dict key " + e.getKey() + " is not a string");
            }
            String name = (String) e.getKey();
            if (!(e.getValue() instanceof TorchTensor)) {
                String hint = (name.equals("state_dict") || name.equals("model") || name.equals("module"))
                        ? " (a training checkpoint: save its '" + name + "' entry alone)" : "";
                throw new CheckpointException(source + ": entry '" + name + "' is a " + describe(e.getValue())
                        + ", not a tensor" + hint);
            }
            TorchTensor t = (TorchTensor) e.getValue();
            ZipRecord record = records.get("data/" + t.storage().key());
            long capacity = record.size() / t.type().size();
            try {
                TensorView.checkedNumel(t.shape());
                TensorView.checkExtent(capacity, t.offset(), t.shape(), t.stride());
            } catch (IllegalArgumentException ex) {
                throw new CheckpointException(source + ": tensor " + name + ": " + ex.getMessage());
            }
            ByteOrder byteOrder = order;
            tensors.add(new CheckpointTensor(name, t.type(), t.shape(), t.parameter(), () -> {
                ByteRegion region = ByteRegion.map(channel, record.payloadOffset(), record.size(), byteOrder);
                try {
                    return new MappedTensor(new TensorView(region, t.type(), t.offset(), t.shape(), t.stride()), region);
                } catch (RuntimeException ex) {
                    region.close();
                    throw ex;
                }
            }));
        }
        return new TorchCheckpoint(source, channel, Collections.unmodifiableList(tensors), dict.ordered());
    }

    private static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof PyDict) {
            return ((PyDict) o).ordered() ? "OrderedDict" : "dict";
        }
        if (o instanceof TorchTensor) {
            return "tensor";
        }
        if (o instanceof Long) {
            return "int";
        }
        if (o instanceof List) {
            return "list";
        }
        return o.getClass().getSimpleName();
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public List<CheckpointTensor> tensors() {
        return tensors;
    }

    /** Whether the top-level object was an {@code OrderedDict} (a {@code state_dict()}). */
    public boolean ordered() {
        return ordered;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
