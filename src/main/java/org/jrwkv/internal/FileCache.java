package org.jrwkv.internal;

import java.nio.file.Path;

/**
 * Lets the operating system drop a model file's cached pages once jrwkv has written it (a download,
 * a conversion), as the engine does for the files it writes itself. Linux maps a file with 2 MiB
 * pages only where its page cache holds 2 MiB folios, and the pages a writer leaves behind are small
 * ones: decoding from a file just written would run 2-10% slower for as long as they stay cached
 * ({@code rwkv_drop_file_cache} in rwkv.h). A no-op on other systems.
 *
 * <p>Internal: not part of the public API.
 */
public final class FileCache {

    private FileCache() {
    }

    /**
     * Writes {@code file} to disk and drops its cached pages. Best effort: the file is complete and
     * stays as it is whatever happens here, so failures are ignored.
     *
     * @param file a file jrwkv has just written
     */
    public static void dropCachedPages(Path file) {
        try (NativeLib.Utf8 path = new NativeLib.Utf8(file.toAbsolutePath().toString())) {
            RwkvNative.rwkv_drop_file_cache(path.pointer());
        } catch (UnsatisfiedLinkError e) {
            // Without the native library nothing will map the file here: nothing to gain.
        }
    }
}
