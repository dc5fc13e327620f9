package org.jrwkv.models;

/** Lets tests in other packages build the one-model test catalog of {@link ModelStoreTest}. */
public final class ModelStoreTestAccess {

    private ModelStoreTestAccess() {
    }

    /** See {@code ModelStoreTest.catalogJson}. */
    public static String catalogJson(LocalHub hub, String checkpointSha) {
        return ModelStoreTest.catalogJson(hub, checkpointSha);
    }
}
