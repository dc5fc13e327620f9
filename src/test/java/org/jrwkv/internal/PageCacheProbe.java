package org.jrwkv.internal;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/** What the page cache holds of a file, for tests of {@link FileCache}. */
public final class PageCacheProbe {

    private PageCacheProbe() {
    }

    /**
     * Whether tests can see pages leave the cache in this folder: Linux, whose engine drops them,
     * and a file system that can drop them (tmpfs keeps files in memory).
     */
    public static boolean canMeasure(Path dir) throws IOException {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")
                && !Files.getFileStore(dir).type().equals("tmpfs");
    }

    /** Whether every page of the file is cached ({@link MappedByteBuffer#isLoaded}: mincore on Linux). */
    public static boolean fullyCached(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            return mapping.isLoaded();
        }
    }
}
