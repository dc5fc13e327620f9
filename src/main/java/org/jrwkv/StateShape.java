package org.jrwkv;

/**
 * What a state buffer belongs to: a state is meaningful only for a model of the same
 * architecture and dimensions, and the state file header records exactly these values.
 */
record StateShape(Architecture architecture, int embeddingSize, int layerCount, int headSize, int length) {

    @Override
    public String toString() {
        return "RWKV v" + architecture.version() + ", n_embed " + embeddingSize + ", n_layer " + layerCount
                + ", head size " + headSize + ", " + length + " floats";
    }
}
