package io.moonwalk.agent.output;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Replaces a file atomically: the content goes to a temporary file in the target's directory
 * (same file system, so the rename is atomic), is fsynced, and is renamed over the target. A
 * reader (a browser reloading the flame graph, a collector picking up pprof files) therefore never
 * sees a half-written profile, and a crash leaves either the old file or the new one.
 */
public final class AtomicFileWriter {

    /** Produces the file content. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    private AtomicFileWriter() {
    }

    /**
     * Writes {@code content} to {@code target}. On any failure the temporary file is removed and
     * {@code target} is left as it was.
     *
     * @throws IOException naming {@code target} when the directory is missing or not writable, or
     *                     when writing, syncing or renaming fails
     */
    public static void write(Path target, Content content) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Path fileName = absolute.getFileName();
        if (dir == null || fileName == null) {
            throw new IOException("cannot write profile to '" + target + "': not a file path");
        }
        Path temp = createTemp(target, dir, fileName.toString());
        boolean done = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
                content.writeTo(out);
                out.flush();
                channel.force(true);
            }
            move(temp, absolute);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(temp);
            }
        }
        syncDirectory(dir);
    }

    private static Path createTemp(Path target, Path dir, String fileName) throws IOException {
        try {
            // Dot prefix keeps the temp file out of globs like *.pb.gz that pick up finished files.
            return Files.createTempFile(dir, "." + fileName + ".", ".tmp");
        } catch (NoSuchFileException e) {
            throw new IOException("cannot write profile to '" + target + "': directory '" + dir
                    + "' does not exist; create it or choose another output path", e);
        } catch (AccessDeniedException e) {
            throw new IOException("cannot write profile to '" + target + "': directory '" + dir
                    + "' is not writable; fix its permissions or choose another output path", e);
        } catch (FileSystemException e) {
            throw new IOException("cannot write profile to '" + target + "': cannot create a file in '"
                    + dir + "' (" + reason(e) + "); choose another output path", e);
        }
    }

    private static void move(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace '" + target + "' atomically: " + reason(e), e);
        } catch (FileSystemException e) {
            throw new IOException("cannot move the finished profile to '" + target + "': " + reason(e), e);
        }
    }

    /** Makes the rename itself durable; without it a power loss can undo the rename. */
    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems refuse fsync on a directory; the file itself is complete and synced.
        }
    }

    private static String reason(FileSystemException e) {
        return e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
    }
}
