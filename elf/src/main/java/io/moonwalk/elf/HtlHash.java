package io.moonwalk.elf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The OpenTelemetry profiles build id {@code process.executable.build_id.htlhash} of a file: the first 16 bytes of
 * SHA-256 over the file's first 4096 bytes, its last 4096 bytes (the two may overlap) and its length as a
 * big-endian 64-bit number, in hex. Unlike the GNU build id it exists for every file, stripped or not; it reads two
 * pages whatever the file's size.
 */
public final class HtlHash {
    private static final int PAGE = 4096;

    private HtlHash() {
    }

    /** The hash of the file at {@code path}; IOException when it cannot be read. */
    public static String of(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MessageDigest sha = sha256();
            int head = (int) Math.min(PAGE, size);
            sha.update(read(ch, 0, head));
            int tail = (int) Math.min(PAGE, size);
            sha.update(read(ch, size - tail, tail));
            sha.update(ByteBuffer.allocate(8).putLong(size).array());
            byte[] digest = sha.digest();
            return HexFormat.of().formatHex(digest, 0, 16);
        }
    }

    private static byte[] read(FileChannel ch, long at, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                throw new IOException("file shrank while hashing at offset " + (at + b.position()));
            }
        }
        return b.array();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
