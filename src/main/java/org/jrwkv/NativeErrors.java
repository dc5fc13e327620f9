package org.jrwkv;

import org.jrwkv.internal.NativeLib;
import org.jrwkv.internal.RwkvNative;
import org.jrwkv.internal.RwkvNative.rwkv_context;

/** Turns the engine's error slots into {@link RwkvException}s. */
final class NativeErrors {

    private NativeErrors() {
    }

    /**
     * The failure recorded in the calling thread's global slot (load, clone, quantize). Must be
     * called on the thread that made the failing call, before any other engine call on it.
     */
    static RwkvException global(String action) {
        return from(null, action);
    }

    /** The failure recorded in a context's slot (evaluation). */
    static RwkvException context(rwkv_context ctx, String action) {
        return from(ctx, action);
    }

    private static RwkvException from(rwkv_context ctx, String action) {
        // The flags read resets the slot's flags but not its message.
        int flags = RwkvNative.rwkv_get_last_error(ctx);
        String message = NativeLib.string(RwkvNative.rwkv_get_last_error_message(ctx));
        return new RwkvException(action, flags, message);
    }
}
