package io.moonwalk.unwinder.cfi;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.Optional;

/**
 * Which file a table belongs to: its GNU build-id when it has one (the same code under any path, in any
 * container), else (device, inode, size, mtime), which changes when the file is replaced or rewritten.
 *
 * <p>{@link #fileId()} is the u64 the kernel maps use: the first 8 bytes (big-endian) of SHA-256 over a tag and
 * the identity, with 0 mapped to 1 so that 0 can mean "no file". It is a pure function of the identity, so it is
 * stable for the process lifetime and across agent restarts; a 64-bit collision between two live identities is
 * detected by {@link UnwindTableCache} and refused, never silently shared.
 */
public final class FileIdentity {
    private final String buildId;
    private final long dev;
    private final long inode;
    private final long size;
    private final long mtimeNanos;
    private final long fileId;

    private FileIdentity(String buildId, long dev, long inode, long size, long mtimeNanos) {
        this.buildId = buildId;
        this.dev = dev;
        this.inode = inode;
        this.size = size;
        this.mtimeNanos = mtimeNanos;
        this.fileId = computeId();
    }

    /** @param buildIdHex the build-id as hex (case-insensitive), as {@link ElfFile#buildId()} returns it */
    public static FileIdentity ofBuildId(String buildIdHex) {
        if (buildIdHex == null || buildIdHex.isEmpty() || buildIdHex.length() > 128
                || !buildIdHex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException("build-id must be 1..128 hex digits, got \"" + buildIdHex + "\"");
        }
        return new FileIdentity(buildIdHex.toLowerCase(java.util.Locale.ROOT), 0, 0, 0, 0);
    }

    /** For files without a build-id. {@code dev} as the kernel encodes it (e.g. {@code unix:dev}). */
    public static FileIdentity ofFile(long dev, long inode, long size, long mtimeNanos) {
        return new FileIdentity(null, dev, inode, size, mtimeNanos);
    }

    /** The build-id of {@code elf} if it has one, else the stat of {@code path} (which should be the same file). */
    public static FileIdentity of(ElfFile elf, Path path) throws IOException {
        Optional<String> id;
        try {
            id = elf.buildId();
        } catch (ElfFormatException e) {
            id = Optional.empty(); // a broken note does not stop us identifying the file by its inode
        }
        if (id.isPresent()) {
            return ofBuildId(id.get());
        }
        Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino,size,lastModifiedTime");
        FileTime mtime = (FileTime) a.get("lastModifiedTime");
        long nanos = mtime.to(java.util.concurrent.TimeUnit.NANOSECONDS);
        return ofFile((Long) a.get("dev"), (Long) a.get("ino"), (Long) a.get("size"), nanos);
    }

    private long computeId() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            if (buildId != null) {
                sha.update("build-id:".getBytes(StandardCharsets.US_ASCII));
                sha.update(buildId.getBytes(StandardCharsets.US_ASCII));
            } else {
                sha.update("file:".getBytes(StandardCharsets.US_ASCII));
                sha.update(ByteBuffer.allocate(32).putLong(dev).putLong(inode).putLong(size).putLong(mtimeNanos)
                        .flip());
            }
            long id = ByteBuffer.wrap(sha.digest()).getLong();
            return id == 0 ? 1 : id;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    /** The u64 key of the kernel's {@code unwind_files} map and the {@code file_id} of {@code pid_maps} values. */
    public long fileId() {
        return fileId;
    }

    public Optional<String> buildId() {
        return Optional.ofNullable(buildId);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FileIdentity f && java.util.Objects.equals(buildId, f.buildId) && dev == f.dev
                && inode == f.inode && size == f.size && mtimeNanos == f.mtimeNanos;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(fileId);
    }

    @Override
    public String toString() {
        return buildId != null ? "build-id:" + buildId
                : "file:dev=" + dev + ",ino=" + inode + ",size=" + size + ",mtime=" + mtimeNanos;
    }
}
