/**
 * jrwkv: RWKV language models for Java, on jrwkv's own native inference engine.
 *
 * <p>The API is small: {@link org.jrwkv.RwkvModel} loads an rwkv.cpp model file and evaluates
 * tokens; {@link org.jrwkv.RwkvState} holds the recurrent state (off-heap, exportable);
 * {@link org.jrwkv.Logits} is a reusable buffer for the scores of the next token;
 * {@link org.jrwkv.Rwkv} quantizes model files and reports CPU features;
 * {@link org.jrwkv.RwkvException} carries the engine's error flags and message.
 * {@link org.jrwkv.RwkvModel#evalBatch} advances many independent sessions in one pass over the
 * weights, and {@link org.jrwkv.BatchGenerator} generates text for them; {@link org.jrwkv.RandomModel}
 * writes random-weight models of real shapes and {@link org.jrwkv.Bench} measures speed against the
 * memory-bandwidth bound.
 *
 * <p>Every object that holds native memory is {@link java.lang.AutoCloseable}, is freed by a
 * cleaner if it is forgotten, and throws {@link java.lang.IllegalStateException} when used after
 * {@code close()}. Arguments the Java side can check are checked before any native call
 * ({@link java.lang.IllegalArgumentException}).
 *
 * <p>Threads: use one {@code RwkvModel} per thread; {@link org.jrwkv.RwkvModel#copy()} makes
 * another one that shares the weights. Concurrent evaluations on copies give exactly the results
 * of serial ones.
 */
package org.jrwkv;
