/**
 * Known models and the local model cache: {@link org.jrwkv.models.ModelCatalog} (the built-in
 * catalog of RWKV checkpoints on Hugging Face), {@link org.jrwkv.models.ModelStore} (download,
 * verify, convert, quantize into {@code $JRWKV_HOME}) and {@link org.jrwkv.models.Downloader}.
 */
package org.jrwkv.models;
