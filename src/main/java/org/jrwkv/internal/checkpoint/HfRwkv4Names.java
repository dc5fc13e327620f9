package org.jrwkv.internal.checkpoint;

import java.util.List;

/**
 * Hugging Face {@code transformers} RWKV-4 names ({@code RwkvForCausalLM}) back to the original
 * checkpoint names (converter.md C.1). Values and shapes are the same; only names differ.
 *
 * <p>Internal: not part of the public API.
 */
public final class HfRwkv4Names {

    private HfRwkv4Names() {
    }

    /** Whether these tensor names are in the transformers layout ({@code rwkv.embeddings.weight}, ...). */
    public static boolean applies(List<CheckpointTensor> tensors) {
        return tensors.stream().anyMatch(t -> t.name().equals("rwkv.embeddings.weight"));
    }

    /** The original name of a transformers name (names outside the layout are returned unchanged). */
    public static String original(String name) {
        String n = name.startsWith("rwkv.") ? name.substring("rwkv.".length()) : name;
        if (n.startsWith("embeddings.")) {
            n = "emb." + n.substring("embeddings.".length());
        }
        n = n.replace("blocks.0.pre_ln.", "blocks.0.ln0.");
        n = n.replace(".attention.", ".att.");
        n = n.replace(".feed_forward.", ".ffn.");
        if (n.endsWith(".time_mix_key")) {
            n = n.substring(0, n.length() - "key".length()) + "k";
        } else if (n.endsWith(".time_mix_value")) {
            n = n.substring(0, n.length() - "value".length()) + "v";
        } else if (n.endsWith(".time_mix_receptance")) {
            n = n.substring(0, n.length() - "receptance".length()) + "r";
        }
        return n;
    }

    /** Every tensor under its original name. */
    public static List<CheckpointTensor> rename(List<CheckpointTensor> tensors) {
        return tensors.stream().map(t -> t.renamed(original(t.name()))).toList();
    }
}
