package org.jrwkv.internal.pickle;

import org.jrwkv.convert.CheckpointException;

/**
 * What a pickle may name: the {@link PickleMachine} itself only builds plain data (numbers,
 * strings, tuples, lists, dicts); every global, call, BUILD and persistent id goes through a
 * resolver that accepts a fixed whitelist and refuses the rest. Nothing named by the file is ever
 * loaded, called or instantiated.
 *
 * <p>Internal: not part of the public API.
 */
public interface PickleResolver {

    /**
     * A GLOBAL or STACK_GLOBAL.
     *
     * @return a marker object standing for the global
     * @throws CheckpointException if the global is not whitelisted (the message names it)
     */
    Object global(String module, String name) throws CheckpointException;

    /**
     * A REDUCE: {@code callable(*args)}.
     *
     * @param callable a marker returned by {@link #global} (or any value the stream put there)
     * @throws CheckpointException if this call is not allowed
     */
    Object reduce(Object callable, PyTuple args) throws CheckpointException;

    /**
     * A BUILD: set {@code state} on {@code target}.
     *
     * @return the object that replaces the target on the stack
     * @throws CheckpointException if not allowed
     */
    Object build(Object target, Object state) throws CheckpointException;

    /**
     * A BINPERSID: resolve a persistent id.
     *
     * @throws CheckpointException if the id is not a valid reference
     */
    Object persistentLoad(Object pid) throws CheckpointException;
}
