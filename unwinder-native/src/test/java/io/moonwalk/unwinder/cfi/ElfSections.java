package io.moonwalk.unwinder.cfi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Section addresses from {@code readelf -SW} and their bytes (test-only stand-in for the ELF reader). */
final class ElfSections {
    record Section(String name, long addr, long offset, long size) {
    }

    private static final Pattern ROW = Pattern.compile(
            "^\\s*\\[\\s*\\d+]\\s+(\\S+)\\s+\\S+\\s+([0-9a-f]+)\\s+([0-9a-f]+)\\s+([0-9a-f]+)\\s");

    private final Path file;
    private final Map<String, Section> sections = new HashMap<>();

    ElfSections(Path file) {
        this.file = file;
        for (String line : ExternalTool.run("readelf", "-SW", file.toString()).split("\n")) {
            Matcher m = ROW.matcher(line);
            if (m.find()) {
                sections.put(m.group(1), new Section(m.group(1), Long.parseUnsignedLong(m.group(2), 16),
                        Long.parseLong(m.group(3), 16), Long.parseLong(m.group(4), 16)));
            }
        }
    }

    Section section(String name) {
        Section s = sections.get(name);
        if (s == null) {
            throw new AssertionError(file + " has no " + name + " section (readelf -SW)");
        }
        return s;
    }

    boolean has(String name) {
        return sections.containsKey(name);
    }

    ByteBuffer bytes(String name) {
        Section s = section(name);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate((int) s.size());
            while (buf.hasRemaining()) {
                if (ch.read(buf, s.offset() + buf.position()) < 0) {
                    throw new AssertionError("short read of " + name + " in " + file);
                }
            }
            return buf.flip();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    UnwindTable ehFrameTable(RuleDictionary dict) throws CfiFormatException {
        return UnwindTableBuilder.fromEhFrame(bytes(".eh_frame"), section(".eh_frame").addr(),
                has(".eh_frame_hdr") ? bytes(".eh_frame_hdr") : null,
                has(".eh_frame_hdr") ? section(".eh_frame_hdr").addr() : 0, dict);
    }
}
