package org.jrwkv.internal.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jrwkv.convert.CheckpointException;

/**
 * Opens any supported input by its content, not its name: a torch zip checkpoint, a
 * {@code .safetensors} file, a Hugging Face sharded checkpoint (its {@code *.index.json}), or a
 * Hugging Face model folder ({@code model.safetensors}, {@code pytorch_model.bin}, or their
 * sharded forms). Transformers RWKV-4 names are mapped back to the original names. Other torch
 * formats (legacy pre-1.6, TorchScript, tar) are refused with a message saying so.
 *
 * <p>Internal: not part of the public API.
 */
public final class Checkpoints {

    private static final byte[] LEGACY_MAGIC = {(byte) 0x80, 0x02, (byte) 0x8A, 0x0A, 0x6C, (byte) 0xFC, (byte) 0x9C,
        0x46, (byte) 0xF9, 0x20, 0x6A, (byte) 0xA8, 0x50, 0x19};
    private static final int MAX_INDEX = 64 << 20;

    private Checkpoints() {
    }

    /**
     * Opens an input.
     *
     * @param path a checkpoint file, an index JSON or a model folder
     * @return the checkpoint, names mapped to the original RWKV names
     * @throws CheckpointException if the input is not a supported, valid checkpoint
     * @throws IOException         if reading fails
     */
    public static Checkpoint open(Path path) throws IOException {
        Checkpoint raw = openRaw(path);
        if (HfRwkv4Names.applies(raw.tensors())) {
            List<CheckpointTensor> renamed = HfRwkv4Names.rename(raw.tensors());
            return new Composite(raw.source(), renamed, List.of(raw));
        }
        return raw;
    }

    private static Checkpoint openRaw(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            for (String name : new String[] {"model.safetensors", "model.safetensors.index.json",
                "pytorch_model.bin", "pytorch_model.bin.index.json"}) {
                Path candidate = path.resolve(name);
                if (Files.isRegularFile(candidate)) {
                    return openRaw(candidate);
                }
            }
            throw new CheckpointException(path + ": a folder without model.safetensors or pytorch_model.bin"
                    + " (or their .index.json)");
        }
        if (!Files.isRegularFile(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString());
        }
        String source = String.valueOf(path.getFileName());
        byte[] head = new byte[512];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return TorchCheckpoint.open(path);
        }
        if (n >= 8 && new String(head, 0, 8, java.nio.charset.StandardCharsets.ISO_8859_1).equals("PYTORCH1")) {
            throw new CheckpointException(source + ": a torch preview-release container (PYTORCH1), not supported;"
                    + " re-save it with torch >= 1.6");
        }
        if (n >= LEGACY_MAGIC.length && java.util.Arrays.equals(head, 0, LEGACY_MAGIC.length, LEGACY_MAGIC, 0,
                LEGACY_MAGIC.length)) {
            throw new CheckpointException(source + ": legacy torch format (before torch 1.6) is not supported;"
                    + " re-save it with torch >= 1.6 (torch.save writes the zip format)");
        }
        if (n >= 262 && new String(head, 257, 5, java.nio.charset.StandardCharsets.ISO_8859_1).equals("ustar")) {
            throw new CheckpointException(source + ": a tar archive (torch before 0.4), not supported");
        }
        if (n >= 9 && head[8] == '{') {
            return SafetensorsCheckpoint.open(path);
        }
        if (n >= 1 && head[0] == '{' && source.endsWith(".json")) {
            return openSharded(path);
        }
        throw new CheckpointException(source + ": not a PyTorch zip checkpoint, safetensors file or"
                + " Hugging Face index");
    }

    private static Checkpoint openSharded(Path index) throws IOException {
        String source = String.valueOf(index.getFileName());
        if (Files.size(index) > MAX_INDEX) {
            throw new CheckpointException(source + ": index too large");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(index.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CheckpointException(source + ": not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode map = root.path("weight_map");
        if (!map.isObject() || map.isEmpty()) {
            throw new CheckpointException(source + ": no weight_map (not a sharded checkpoint index)");
        }
        TreeSet<String> shards = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.properties().iterator(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            String file = e.getValue().asText("");
            if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.equals("..")) {
                throw new CheckpointException(source + ": shard name '" + file + "' is not a plain file name");
            }
            shards.add(file);
        }
        Path dir = index.toAbsolutePath().getParent();
        List<Checkpoint> parts = new ArrayList<>();
        List<CheckpointTensor> tensors = new ArrayList<>();
        boolean done = false;
        try {
            for (String shard : shards) {
                Checkpoint part = openRaw(dir.resolve(shard));
                parts.add(part);
                for (CheckpointTensor t : part.tensors()) {
                    String expected = map.path(t.name()).asText(null);
                    if (!shard.equals(expected)) {
                        throw new CheckpointException(source + ": tensor " + t.name() + " is in " + shard
                                + " but the index says " + expected);
                    }
                    tensors.add(t);
                }
            }
            if (tensors.size() != map.size()) {
                throw new CheckpointException(source + ": the index lists " + map.size() + " tensors, the shards hold "
                        + tensors.size());
            }
            done = true;
        } finally {
            if (!done) {
                for (Checkpoint p : parts) {
                    p.close();
                }
            }
        }
        return new Composite(source, Collections.unmodifiableList(tensors), parts);
    }

    /** Tensors drawn from one or more opened checkpoints. */
    private static final class Composite implements Checkpoint {
        private final String source;
        private final List<CheckpointTensor> tensors;
        private final List<Checkpoint> parts;

        Composite(String source, List<CheckpointTensor> tensors, List<Checkpoint> parts) {
            this.source = source;
            this.tensors = tensors;
            this.parts = parts;
        }

        @Override
        public String source() {
            return source;
        }

        @Override
        public List<CheckpointTensor> tensors() {
            return tensors;
        }

        @Override
        public void close() throws IOException {
            IOException first = null;
            for (Checkpoint p : parts) {
                try {
                    p.close();
                } catch (IOException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }
}
