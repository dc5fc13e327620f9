package org.jrwkv.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading how a file is mapped from /proc/self/smaps. */
class MappedPagesTest {

    @TempDir
    Path dir;

    @Test
    void sumsTheFilesMappingsOnly() {
        List<String> smaps = List.of(
                "7f0000000000-7f0000400000 r--p 00000000 fd:01 1234                       /models/a b.bin",
                "Size:               4096 kB",
                "Rss:                4096 kB",
                "FilePmdMapped:      2048 kB",
                "VmFlags: rd mr mw me hg",
                "7f0000400000-7f0000600000 r--p 00400000 fd:01 1234                       /models/a b.bin",
                "Rss:                1024 kB",
                "FilePmdMapped:         0 kB",
                "7f0000600000-7f0000800000 r--p 00000000 fd:01 99                         /models/other.bin",
                "Rss:                2048 kB",
                "FilePmdMapped:      2048 kB",
                "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]",
                "Rss:                  64 kB");
        MappedPages pages = MappedPages.parse(smaps, "/models/a b.bin").orElseThrow();
        assertEquals(5120L * 1024, pages.residentBytes());
        assertEquals(2048L * 1024, pages.hugeBytes());
        assertEquals(0.4, pages.hugeShare(), 1e-12);
        assertTrue(MappedPages.parse(smaps, "/models/missing.bin").isEmpty());
        assertEquals(0.0, new MappedPages(0, 0).hugeShare());
    }

    @Test
    void seesThisProcesssMappingOfAFile() throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/smaps")), "needs Linux's /proc/self/smaps");
        Path file = Files.write(dir.resolve("mapped file.bin"), new byte[1 << 20]);
        assertTrue(MappedPages.of(file).isEmpty(), "not mapped yet");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            long sum = 0;
            for (int i = 0; i < mapping.capacity(); i += 4096) {
                sum += mapping.get(i);
            }
            assertEquals(0, sum);
            MappedPages pages = MappedPages.of(file).orElseThrow();
            assertEquals(1 << 20, pages.residentBytes());
            // A file just written is cached in small pages, and 1 MiB could not fill a 2 MiB one.
            assertEquals(0, pages.hugeBytes());
            assertFalse(pages.hugeShare() > 0);
        }
    }
}
