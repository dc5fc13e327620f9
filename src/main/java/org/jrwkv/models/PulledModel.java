package org.jrwkv.models;

import java.nio.file.Path;
import org.jrwkv.DataType;

/**
 * A model in the cache, ready to load.
 *
 * @param entry     the catalog entry
 * @param model     the model file
 * @param type      its data type (the header's)
 * @param tokenizer the tokenizer file
 * @param tokenizerEntry the tokenizer's catalog entry (its {@code kind} says how to load it)
 */
public record PulledModel(ModelEntry entry, Path model, DataType type, Path tokenizer, TokenizerEntry tokenizerEntry) {
}
