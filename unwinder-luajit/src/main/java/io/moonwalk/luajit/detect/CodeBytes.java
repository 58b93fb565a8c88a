package io.moonwalk.luajit.detect;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.elf.Section;
import java.nio.ByteBuffer;

/** Code bytes at file virtual addresses, read from the executable section that holds them. */
final class CodeBytes {
    private CodeBytes() {
    }

    /**
     * The bytes of {@code [start, end)}, clipped at the end of the section holding {@code start}.
     * Position 0 of the returned buffer is {@code start}.
     */
    static ByteBuffer at(ElfFile elf, long start, long end, String what) throws Refusal {
        for (Section s : elf.sections()) {
            if (s.isExecutable() && s.hasFileData() && s.containsAddress(start)) {
                ByteBuffer data;
                try {
                    data = s.data();
                } catch (ElfFormatException e) {
                    throw new Refusal(what + ": section " + s.name() + " unreadable: " + e.getMessage());
                }
                long from = start - s.addr();
                long to = Math.min(end - s.addr(), data.limit());
                if (to <= from) {
                    break;
                }
                return data.slice((int) from, (int) (to - from)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            }
        }
        throw new Refusal(what + ": no executable section with file data holds 0x" + Long.toHexString(start));
    }
}
