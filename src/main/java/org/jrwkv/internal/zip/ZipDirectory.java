package org.jrwkv.internal.zip;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import org.jrwkv.convert.CheckpointException;

/**
 * The central directory of a zip archive of stored entries, as {@code torch.save} writes it:
 * every entry's payload offset (computed from its <em>local</em> header, whose extra field differs
 * from the central one), size, and name below the archive's single top folder.
 *
 * <p>Only what torch writes is accepted: method 0 (stored), no encryption, one top folder, zip64
 * end records and extra fields where sizes or offsets need them. Every offset and size is checked
 * against the file before use; nothing is allocated from a declared size without that check.
 * Java's {@code ZipInputStream} cannot read these files (stored entries with data descriptors),
 * and {@code ZipFile} does not expose payload offsets, which memory mapping needs.
 *
 * <p>Internal: not part of the public API.
 */
public final class ZipDirectory {

    private static final int EOCD_SIG = 0x06054b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int LOCAL_SIG = 0x04034b50;
    private static final int EOCD_SIZE = 22;
    private static final int MAX_COMMENT = 0xFFFF;
    /** More entries than any checkpoint has (a 14B model has a few thousand storages). */
    private static final long MAX_ENTRIES = 1_000_000;
    /** Records read into memory whole (data.pkl, version, ...) are at most this large. */
    public static final int MAX_SMALL_RECORD = 64 << 20;

    private final String file;
    private final FileChannel channel;
    private final long fileSize;
    private final String prefix;
    private final Map<String, ZipRecord> records;

    private ZipDirectory(String file, FileChannel channel, long fileSize, String prefix, Map<String, ZipRecord> records) {
        this.file = file;
        this.channel = channel;
        this.fileSize = fileSize;
        this.prefix = prefix;
        this.records = records;
    }

    /**
     * Reads the central directory.
     *
     * @param file    the file's name, for messages
     * @param channel an open channel on the file (not closed here)
     * @return the directory
     * @throws CheckpointException if the archive is damaged, truncated or not of the accepted kind
     * @throws IOException         if reading fails
     */
    public static ZipDirectory read(String file, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size < EOCD_SIZE) {
            throw new CheckpointException(file + ": too short for a zip archive (" + size + " bytes)");
        }
        // The end-of-central-directory record sits in the last 22 + comment bytes.
        int tailLength = (int) Math.min(size, EOCD_SIZE + MAX_COMMENT);
        ByteBuffer tail = readAt(channel, size - tailLength, tailLength);
        int eocd = -1;
        for (int i = tailLength - EOCD_SIZE; i >= 0; i--) {
            if (tail.getInt(i) == EOCD_SIG && i + EOCD_SIZE + (tail.getShort(i + 20) & 0xFFFF) == tailLength) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) {
            throw new CheckpointException(file + ": zip end record not found (the file is truncated or not a zip archive)");
        }
        long eocdOffset = size - tailLength + eocd;
        long entries = tail.getShort(eocd + 10) & 0xFFFF;
        long cdSize = tail.getInt(eocd + 12) & 0xFFFFFFFFL;
        long cdOffset = tail.getInt(eocd + 16) & 0xFFFFFFFFL;
        if ((tail.getShort(eocd + 4) & 0xFFFF) != 0 || (tail.getShort(eocd + 6) & 0xFFFF) != 0) {
            throw new CheckpointException(file + ": multi-disk zip archives are not supported");
        }
        // torch always writes the zip64 records; they hold the real values when the classic ones overflow.
        if (eocdOffset >= 20) {
            ByteBuffer locator = readAt(channel, eocdOffset - 20, 20);
            if (locator.getInt(0) == ZIP64_LOCATOR_SIG) {
                long zip64Offset = locator.getLong(8);
                if (zip64Offset < 0 || zip64Offset > eocdOffset - 20 - 56) {
                    throw new CheckpointException(file + ": zip64 end record offset out of range");
                }
                ByteBuffer z = readAt(channel, zip64Offset, 56);
                if (z.getInt(0) != ZIP64_EOCD_SIG) {
                    throw new CheckpointException(file + ": zip64 end record missing (truncated or damaged archive)");
                }
                entries = z.getLong(32);
                cdSize = z.getLong(40);
                cdOffset = z.getLong(48);
            }
        }
        if (entries < 0 || entries > MAX_ENTRIES) {
            throw new CheckpointException(file + ": implausible zip entry count " + entries);
        }
        if (cdOffset < 0 || cdSize < 0 || cdSize > MAX_SMALL_RECORD || cdOffset + cdSize > eocdOffset) {
            throw new CheckpointException(file + ": zip central directory out of range (truncated or damaged archive)");
        }
        ByteBuffer cd = readAt(channel, cdOffset, (int) cdSize);
        Map<String, ZipRecord> records = new LinkedHashMap<>();
        String prefix = null;
        int pos = 0;
        for (long n = 0; n < entries; n++) {
            if (pos + 46 > cd.limit() || cd.getInt(pos) != CENTRAL_SIG) {
                throw new CheckpointException(file + ": damaged zip central directory (entry " + n + ")");
            }
            int flags = cd.getShort(pos + 8) & 0xFFFF;
            int method = cd.getShort(pos + 10) & 0xFFFF;
            int crc = cd.getInt(pos + 16);
            long compressed = cd.getInt(pos + 20) & 0xFFFFFFFFL;
            long uncompressed = cd.getInt(pos + 24) & 0xFFFFFFFFL;
            int nameLength = cd.getShort(pos + 28) & 0xFFFF;
            int extraLength = cd.getShort(pos + 30) & 0xFFFF;
            int commentLength = cd.getShort(pos + 32) & 0xFFFF;
            long localOffset = cd.getInt(pos + 42) & 0xFFFFFFFFL;
            int next = pos + 46 + nameLength + extraLength + commentLength;
            if (next > cd.limit()) {
                throw new CheckpointException(file + ": damaged zip central directory (entry " + n + ")");
            }
            String name = utf8(file, cd, pos + 46, nameLength);
            // zip64 extra field: 8-byte values for exactly the 32-bit fields that are 0xFFFFFFFF.
            int extra = pos + 46 + nameLength;
            int extraEnd = extra + extraLength;
            while (extra + 4 <= extraEnd) {
                int id = cd.getShort(extra) & 0xFFFF;
                int length = cd.getShort(extra + 2) & 0xFFFF;
                if (extra + 4 + length > extraEnd) {
                    throw new CheckpointException(file + ": damaged zip extra field in " + name);
                }
                if (id == 0x0001) {
                    int p = extra + 4;
                    int end = p + length;
                    if (uncompressed == 0xFFFFFFFFL) {
                        uncompressed = zip64Value(file, cd, p, end, name);
                        p += 8;
                    }
                    if (compressed == 0xFFFFFFFFL) {
                        compressed = zip64Value(file, cd, p, end, name);
                        p += 8;
                    }
                    if (localOffset == 0xFFFFFFFFL) {
                        localOffset = zip64Value(file, cd, p, end, name);
                    }
                }
                extra += 4 + length;
            }
            pos = next;

            if ((flags & 1) != 0) {
                throw new CheckpointException(file + ": encrypted zip entry " + name);
            }
            if (method != 0) {
                throw new CheckpointException(file + ": zip entry " + name + " is compressed (method " + method
                        + "); torch checkpoints store every entry uncompressed");
            }
            if (compressed != uncompressed) {
                throw new CheckpointException(file + ": zip entry " + name + " has inconsistent sizes");
            }
            int slash = name.indexOf('/');
            if (prefix == null) {
                if (slash <= 0) {
                    throw new CheckpointException(file + ": zip entry " + name + " is not inside an archive folder");
                }
                prefix = name.substring(0, slash + 1);
            }
            if (!name.startsWith(prefix) || name.length() == prefix.length()) {
                throw new CheckpointException(file + ": zip entry " + name + " is outside the archive folder " + prefix);
            }
            if (localOffset > cdOffset - 30) {
                throw new CheckpointException(file + ": zip entry " + name + " starts outside the archive");
            }
            ByteBuffer local = readAt(channel, localOffset, 30);
            if (local.getInt(0) != LOCAL_SIG) {
                throw new CheckpointException(file + ": zip entry " + name + " has no local header (damaged archive)");
            }
            long payload = localOffset + 30 + (local.getShort(26) & 0xFFFF) + (local.getShort(28) & 0xFFFF);
            if (uncompressed < 0 || payload > cdOffset || uncompressed > cdOffset - payload) {
                throw new CheckpointException(file + ": zip entry " + name + " (" + uncompressed
                        + " bytes) extends past the end of the data (truncated or damaged archive)");
            }
            String key = name.substring(prefix.length());
            if (records.put(key, new ZipRecord(key, payload, uncompressed, crc)) != null) {
                throw new CheckpointException(file + ": duplicate zip entry " + name);
            }
        }
        if (prefix == null) {
            throw new CheckpointException(file + ": empty zip archive");
        }
        return new ZipDirectory(file, channel, size, prefix, Collections.unmodifiableMap(records));
    }

    private static long zip64Value(String file, ByteBuffer cd, int p, int end, String name) throws CheckpointException {
        if (p + 8 > end) {
            throw new CheckpointException(file + ": damaged zip64 extra field in " + name);
        }
        long v = cd.getLong(p);
        if (v < 0) {
            throw new CheckpointException(file + ": zip64 value out of range in " + name);
        }
        return v;
    }

    private static String utf8(String file, ByteBuffer buffer, int pos, int length) throws CheckpointException {
        ByteBuffer slice = buffer.duplicate();
        slice.position(pos).limit(pos + length);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(slice).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file + ": zip entry name is not valid UTF-8");
        }
    }

    /** Reads {@code length} bytes at {@code offset} into a little-endian heap buffer. */
    static ByteBuffer readAt(FileChannel channel, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, offset + buffer.position());
            if (n < 0) {
                throw new CheckpointException("unexpected end of file at offset " + (offset + buffer.position()));
            }
        }
        return buffer.flip();
    }

    /** The archive's top folder with its trailing slash, e.g. {@code "archive/"}. */
    public String prefix() {
        return prefix;
    }

    /** Every entry by name below the top folder, in central-directory order. */
    public Map<String, ZipRecord> records() {
        return records;
    }

    /** The entry with this name below the top folder, or null. */
    public ZipRecord find(String name) {
        return records.get(name);
    }

    /** Size of the file. */
    public long fileSize() {
        return fileSize;
    }

    /**
     * Reads a small record whole and checks its CRC-32.
     *
     * @throws CheckpointException if it is larger than {@link #MAX_SMALL_RECORD} or its CRC does not match
     */
    public byte[] readSmall(ZipRecord record) throws IOException {
        if (record.size() > MAX_SMALL_RECORD) {
            throw new CheckpointException(file + ": " + record.name() + " is " + record.size()
                    + " bytes (at most " + MAX_SMALL_RECORD + " accepted)");
        }
        ByteBuffer buffer = readAt(channel, record.payloadOffset(), (int) record.size());
        byte[] bytes = buffer.array();
        CRC32 crc = new CRC32();
        crc.update(bytes);
        if ((int) crc.getValue() != record.crc32()) {
            throw new CheckpointException(file + ": " + record.name() + " is damaged (CRC-32 mismatch)");
        }
        return bytes;
    }
}
