package org.jrwkv.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file jrwkv has written leaves the page cache whole, and loses nothing. */
class FileCacheTest {

    @TempDir
    Path dir;

    @Test
    void aWrittenFileLeavesTheCacheAndKeepsItsBytes() throws IOException {
        assumeTrue(PageCacheProbe.canMeasure(dir), "needs Linux and a disk-backed temporary folder");
        byte[] data = new byte[4 << 20];
        new Random(3).nextBytes(data);
        Path file = dir.resolve("model.bin");
        Files.write(file, data);
        assertTrue(PageCacheProbe.fullyCached(file), "a file just written should be cached");
        FileCache.dropCachedPages(file);
        assertFalse(PageCacheProbe.fullyCached(file));
        assertArrayEquals(data, Files.readAllBytes(file));
    }

    @Test
    void aMissingFileIsIgnored() {
        FileCache.dropCachedPages(dir.resolve("missing.bin"));
        assertFalse(Files.exists(dir.resolve("missing.bin")));
    }
}
