package org.jrwkv.internal.checkpoint;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jrwkv.convert.CheckpointException;
import org.jrwkv.internal.tensor.ByteRegion;
import org.jrwkv.internal.tensor.ElementType;
import org.jrwkv.internal.tensor.TensorView;

/**
 * A {@code .safetensors} file (converter.md C.2): an 8-byte little-endian header length N, N bytes
 * of JSON, then the data buffer. Validated like the reference reader: header within the file and at
 * most 100 MB, no duplicate keys, known dtypes, {@code end - begin = numel x size}, tensors neither
 * overlapping nor leaving gaps, together covering the data buffer exactly.
 *
 * <p>Tensors are listed in data order (ascending begin offset): a safetensors file has no
 * "checkpoint order", and data order is what its writer chose.
 *
 * <p>Internal: not part of the public API.
 */
public final class SafetensorsCheckpoint implements Checkpoint {

    /** The reference reader's limit on the JSON header. */
    public static final long MAX_HEADER = 100_000_000L;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final String source;
    private final FileChannel channel;
    private final List<CheckpointTensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsCheckpoint(String source, FileChannel channel, List<CheckpointTensor> tensors,
            Map<String, String> metadata) {
        this.source = source;
        this.channel = channel;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** One entry of the header before validation of the whole. */
    private record Entry(String name, ElementType type, long[] shape, long begin, long end) {
    }

    /**
     * Opens and validates a file.
     *
     * @throws CheckpointException if the file is not valid safetensors
     * @throws IOException         if reading fails
     */
    public static SafetensorsCheckpoint open(Path path) throws IOException {
        String source = String.valueOf(path.getFileName());
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            SafetensorsCheckpoint c = read(source, channel);
            channel = null;
            return c;
        } finally {
            if (channel != null) {
                channel.close();
            }
        }
    }

    private static SafetensorsCheckpoint read(String source, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new CheckpointException(source + ": too short for safetensors (" + size + " bytes)");
        }
        ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, head, 0);
        long n = head.getLong(0);
        if (n < 2 || n > MAX_HEADER || n > size - 8) {
            throw new CheckpointException(source + ": safetensors header length " + Long.toUnsignedString(n)
                    + " is invalid for a file of " + size + " bytes");
        }
        ByteBuffer json = ByteBuffer.allocate((int) n);
        readFully(channel, json, 8);
        JsonNode root;
        try {
            root = JSON.readTree(json.array());
        } catch (JsonParseException e) {
            throw new CheckpointException(source + ": safetensors header is not valid JSON: " + e.getOriginalMessage());
        }
        if (!(root instanceof ObjectNode)) {
            throw new CheckpointException(source + ": safetensors header is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataLength = size - dataStart;
        Map<String, String> metadata = new java.util.LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext();) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode v = field.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw new CheckpointException(source + ": __metadata__ is not an object");
                }
                for (Iterator<Map.Entry<String, JsonNode>> m = v.properties().iterator(); m.hasNext();) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw new CheckpointException(source + ": __metadata__ value " + kv.getKey() + " is not a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            entries.add(entry(source, name, v));
        }
        // Data order; then no overlaps, no gaps, and the buffer covered exactly.
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expect = 0;
        for (Entry e : entries) {
            if (e.begin() != expect) {
                throw new CheckpointException(source + ": tensor " + e.name() + " starts at data offset " + e.begin()
                        + (e.begin() < expect ? ", overlapping the previous tensor" : ", leaving a gap after offset " + expect));
            }
            expect = e.end();
        }
        if (expect != dataLength) {
            throw new CheckpointException(source + ": tensors cover " + expect + " bytes of a data buffer of "
                    + dataLength + " bytes" + (expect > dataLength ? " (truncated file)" : ""));
        }
        List<CheckpointTensor> tensors = new ArrayList<>();
        for (Entry e : entries) {
            long offset = dataStart + e.begin();
            long length = e.end() - e.begin();
            tensors.add(new CheckpointTensor(e.name(), e.type(), e.shape(), false, () -> {
                ByteRegion region = ByteRegion.map(channel, offset, length, ByteOrder.LITTLE_ENDIAN);
                return new MappedTensor(TensorView.contiguous(region, e.type(), e.shape()), region);
            }));
        }
        return new SafetensorsCheckpoint(source, channel, Collections.unmodifiableList(tensors),
                Collections.unmodifiableMap(metadata));
    }

    private static Entry entry(String source, String name, JsonNode v) throws CheckpointException {
        String where = source + ": tensor " + name;
        if (!v.isObject() || !v.path("dtype").isTextual() || !v.path("shape").isArray()
                || !v.path("data_offsets").isArray() || v.path("data_offsets").size() != 2) {
            throw new CheckpointException(where + " needs dtype, shape and data_offsets [begin, end]");
        }
        ElementType type;
        try {
            type = ElementType.valueOf(v.get("dtype").asText());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(where + " has unknown dtype " + v.get("dtype").asText());
        }
        JsonNode shapeNode = v.get("shape");
        if (shapeNode.size() > TensorView.MAX_DIMS) {
            throw new CheckpointException(where + " has " + shapeNode.size() + " dimensions");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToExactIntegral() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new CheckpointException(where + " has an invalid shape " + shapeNode);
            }
            shape[i] = d.asLong();
        }
        JsonNode offsets = v.get("data_offsets");
        for (JsonNode o : offsets) {
            if (!o.canConvertToExactIntegral() || !o.canConvertToLong() || o.asLong() < 0) {
                throw new CheckpointException(where + " has invalid data_offsets " + offsets);
            }
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (end < begin) {
            throw new CheckpointException(where + " has data_offsets that end before they begin");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(TensorView.checkedNumel(shape), type.size());
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new CheckpointException(where + " has a shape that overflows");
        }
        if (end - begin != bytes) {
            throw new CheckpointException(where + ": shape " + shapeNode + " of " + type + " needs " + bytes
                    + " bytes but data_offsets span " + (end - begin));
        }
        return new Entry(name, type, shape, begin, end);
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long offset) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, offset + buffer.position()) < 0) {
                throw new CheckpointException("unexpected end of file");
            }
        }
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public List<CheckpointTensor> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} map (empty if absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
