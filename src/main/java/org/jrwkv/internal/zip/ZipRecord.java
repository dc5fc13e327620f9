package org.jrwkv.internal.zip;

/**
 * One stored (uncompressed) entry of a zip archive.
 *
 * @param name          the entry's name without the archive's top folder, e.g. {@code data/0}
 * @param payloadOffset file offset of its first byte
 * @param size          its size in bytes
 * @param crc32         the CRC-32 from the central directory
 *
 * <p>Internal: not part of the public API.
 */
public record ZipRecord(String name, long payloadOffset, long size, int crc32) {
}
