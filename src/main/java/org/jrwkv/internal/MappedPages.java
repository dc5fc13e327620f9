package org.jrwkv.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How much of a file this process maps with 2 MiB pages, from Linux's {@code /proc/self/smaps}:
 * the resident bytes of the file's mappings and the part of them mapped by 2 MiB entries
 * ({@code FilePmdMapped}). Decoding reads the weights a little faster from 2 MiB pages, and Linux
 * gives them only where the page cache holds the file in 2 MiB folios ({@link FileCache}).
 *
 * <p>Internal: not part of the public API.
 *
 * @param residentBytes bytes of the file's mappings in memory
 * @param hugeBytes     of which mapped with 2 MiB pages
 */
public record MappedPages(long residentBytes, long hugeBytes) {

    /** A mapping's first line: address range, permissions, offset, device, inode, then the path. */
    private static final Pattern MAPPING_HEADER =
            Pattern.compile("^[0-9a-f]+-[0-9a-f]+ \\S{4} [0-9a-f]+ \\S+ \\d+\\s+(.*)$");

    /** The share of the resident bytes mapped with 2 MiB pages (0 when nothing is resident). */
    public double hugeShare() {
        return residentBytes == 0 ? 0.0 : (double) hugeBytes / residentBytes;
    }

    /**
     * This process's mappings of {@code file}; empty where the system does not say (everywhere but
     * Linux) or no mapping of the file is resident.
     */
    public static Optional<MappedPages> of(Path file) {
        Path smaps = Path.of("/proc/self/smaps");
        if (!Files.isReadable(smaps)) {
            return Optional.empty();
        }
        try {
            return parse(Files.readAllLines(smaps), file.toRealPath().toString());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Sums the {@code Rss} and {@code FilePmdMapped} fields of the mappings of {@code path}. */
    static Optional<MappedPages> parse(List<String> smaps, String path) {
        long resident = 0;
        long huge = 0;
        boolean inFile = false;
        for (String line : smaps) {
            var header = MAPPING_HEADER.matcher(line);
            if (header.matches()) {
                inFile = header.group(1).equals(path);
            } else if (inFile && line.startsWith("Rss:")) {
                resident += kibField(line);
            } else if (inFile && line.startsWith("FilePmdMapped:")) {
                huge += kibField(line);
            }
        }
        return resident > 0 ? Optional.of(new MappedPages(resident, huge)) : Optional.empty();
    }

    /** "Name:   1234 kB" in bytes. */
    private static long kibField(String line) {
        String[] parts = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
        return Long.parseLong(parts[0]) * 1024;
    }
}
