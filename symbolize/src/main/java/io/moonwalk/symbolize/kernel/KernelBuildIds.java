package io.moonwalk.symbolize.kernel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * GNU build ids of the running kernel ({@code /sys/kernel/notes}) and of its loaded modules
 * ({@code /sys/module/NAME/notes/.note.gnu.build-id}), so kernel frames can name the exact image a backend
 * needs for symbols. Each id is read once; an unreadable or malformed note gives the empty string (the frame is
 * then sent without a build id). Not thread-safe.
 */
public final class KernelBuildIds {
    private static final int NT_GNU_BUILD_ID = 3;
    /** Notes files are a few hundred bytes; anything far larger is not a notes file. */
    private static final int MAX_NOTES = 64 * 1024;

    private final Path sysfs;
    private final Map<String, String> cache = new HashMap<>();

    /** @param sysfs the sysfs root, {@code /sys} */
    public KernelBuildIds(Path sysfs) {
        this.sysfs = sysfs;
    }

    public KernelBuildIds() {
        this(Path.of("/sys"));
    }

    /** The kernel image's build id in hex, or empty. */
    public String kernel() {
        return cache.computeIfAbsent("", k -> read(sysfs.resolve("kernel/notes")));
    }

    /** Module {@code name}'s build id in hex, or empty. */
    public String module(String name) {
        if (name.isEmpty() || name.contains("/") || name.startsWith(".")) {
            return "";
        }
        return cache.computeIfAbsent(name, k -> read(sysfs.resolve("module").resolve(k)
                .resolve("notes/.note.gnu.build-id")));
    }

    private static String read(Path notes) {
        try {
            if (Files.size(notes) > MAX_NOTES) {
                return "";
            }
            return gnuBuildId(Files.readAllBytes(notes));
        } catch (IOException | SecurityException e) {
            return "";
        }
    }

    /** The descriptor of the first {@code NT_GNU_BUILD_ID} note named {@code GNU} in a run of ELF notes. */
    static String gnuBuildId(byte[] notes) {
        ByteBuffer b = ByteBuffer.wrap(notes).order(ByteOrder.nativeOrder());
        while (b.remaining() >= 12) {
            long namesz = Integer.toUnsignedLong(b.getInt());
            long descsz = Integer.toUnsignedLong(b.getInt());
            int type = b.getInt();
            long nameAligned = (namesz + 3) & ~3L;
            long descAligned = (descsz + 3) & ~3L;
            if (nameAligned + descAligned > b.remaining()) {
                return "";
            }
            int at = b.position();
            boolean gnu = namesz == 4 && notes[at] == 'G' && notes[at + 1] == 'N' && notes[at + 2] == 'U'
                    && notes[at + 3] == 0;
            if (gnu && type == NT_GNU_BUILD_ID && descsz > 0) {
                return HexFormat.of().formatHex(notes, at + (int) nameAligned, at + (int) (nameAligned + descsz));
            }
            b.position(at + (int) (nameAligned + descAligned));
        }
        return "";
    }
}
