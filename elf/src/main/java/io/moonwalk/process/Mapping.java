package io.moonwalk.process;

/**
 * One line of {@code /proc/PID/maps}.
 *
 * @param perms four characters, e.g. {@code r-xp}
 * @param path  as the kernel prints it: an absolute path (maybe with a {@code " (deleted)"} suffix),
 *              a pseudo name such as {@code [vdso]} or {@code [heap]}, or empty for anonymous memory
 */
public record Mapping(long start, long end, String perms, long offset, int devMajor, int devMinor, long inode,
                      String path) {
    private static final String DELETED = " (deleted)";

    public boolean contains(long address) {
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
    }

    public long size() {
        return end - start;
    }

    public boolean isReadable() {
        return perms.charAt(0) == 'r';
    }

    public boolean isWritable() {
        return perms.charAt(1) == 'w';
    }

    public boolean isExecutable() {
        return perms.charAt(2) == 'x';
    }

    /** Backed by a file on some filesystem (including deleted files and memfds). */
    public boolean isFileBacked() {
        return inode != 0 && path.startsWith("/");
    }

    public boolean isDeleted() {
        return isFileBacked() && path.endsWith(DELETED);
    }

    /** No file and no kernel-provided name: heap-like or JIT memory. */
    public boolean isAnonymous() {
        return !isFileBacked() && (path.isEmpty() || path.startsWith("[anon"));
    }

    public boolean isVdso() {
        return "[vdso]".equals(path);
    }

    /** The path without the {@code " (deleted)"} marker. */
    public String filePath() {
        return isDeleted() ? path.substring(0, path.length() - DELETED.length()) : path;
    }

    /** The last path component, e.g. {@code libc.so.6}; pseudo names are returned as is. */
    public String fileName() {
        String p = filePath();
        int slash = p.lastIndexOf('/');
        return slash < 0 ? p : p.substring(slash + 1);
    }

    /** The file offset this runtime address maps to. */
    public long fileOffset(long address) {
        return address - start + offset;
    }

    /** The name of this mapping under {@code /proc/PID/map_files/}. */
    public String mapFilesName() {
        return Long.toHexString(start) + "-" + Long.toHexString(end);
    }
}
