package io.moonwalk.elf;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.testfixtures.BoundedJvm;
import io.moonwalk.testfixtures.CraftedElf;
import io.moonwalk.testfixtures.CraftedElf.Shdr;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crafted files whose references multiply a small table into gigabytes of names are parsed in a
 * child JVM with a 64 MiB heap: each must finish (accepted or refused with a reason) in seconds,
 * never end in OutOfMemoryError. Memory must follow the real input, not what references claim.
 */
@Tag("pure")
class ElfAmplificationTest {
    private static final int LONG_NAME = 32 * 1024 - 1;

    private static byte[] longName(int prefix) {
        byte[] t = new byte[prefix + LONG_NAME + 1];
        Arrays.fill(t, prefix, prefix + LONG_NAME, (byte) 'a');
        return t;
    }

    private static BoundedJvm.Outcome parse(Path file, String what) throws Exception {
        BoundedJvm.Outcome o = BoundedJvm.run("64m", 30, ParseProbe.class, file.toString(), what);
        assertThat(o.timedOut()).as("finished within 30 s: %s", o).isFalse();
        assertThat(o.exitCode()).as("no OutOfMemoryError (exit 3) or crash: %s", o.output()).isZero();
        return o;
    }

    @Test
    void twoHundredFiftyThousandSectionsNamingOneLongNameCostOneName(@TempDir Path tmp) throws Exception {
        CraftedElf e = new CraftedElf();
        int names = e.blob(longName(0));
        e.shstrndx(e.section(new Shdr(0, CraftedElf.SHT_STRTAB, 0, 0, names, LONG_NAME + 1, 0, 0, 1, 0)));
        e.sections(new Shdr(0, CraftedElf.SHT_PROGBITS, 0, 0, -1, 0, 0, 0, 1, 0), 250_000);
        Path f = tmp.resolve("sections.elf");
        e.write(f);
        BoundedJvm.Outcome o = parse(f, "sections");
        assertThat(o.output()).contains("OK 250002"); // 8 GiB of copies before: one shared name now
    }

    @Test
    void sectionsNamingEverySuffixOfOneNameAreRefused(@TempDir Path tmp) throws Exception {
        CraftedElf e = new CraftedElf();
        int names = e.blob(longName(0));
        e.shstrndx(e.section(new Shdr(0, CraftedElf.SHT_STRTAB, 0, 0, names, LONG_NAME + 1, 0, 0, 1, 0)));
        for (int i = 0; i < 200_000; i++) {
            e.section(new Shdr(i % LONG_NAME, CraftedElf.SHT_PROGBITS, 0, 0, -1, 0, 0, 0, 1, 0));
        }
        Path f = tmp.resolve("suffixes.elf");
        e.write(f);
        BoundedJvm.Outcome o = parse(f, "sections"); // ~0.5 GiB of distinct suffixes before
        assertThat(o.output()).contains("REFUSED").contains("string table");
    }

    @Test
    void symbolsSharingOneLongNameCostOneNameAndEverySuffixIsRefused(@TempDir Path tmp) throws Exception {
        for (boolean suffixes : new boolean[] {false, true}) {
            int count = 300_000;
            CraftedElf e = new CraftedElf();
            int shstr = e.blob(".text\0.symtab\0.strtab\0".getBytes());
            int text = e.blob(new byte[16]);
            int strtab = e.blob(longName(1));
            ByteBuffer syms = ByteBuffer.allocate(24 * count).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 1; i < count; i++) {
                int b = 24 * i;
                syms.putInt(b, suffixes ? 1 + (i % LONG_NAME) : 1);
                syms.put(b + 4, (byte) 0x12); // GLOBAL FUNC
                syms.putShort(b + 6, (short) 2); // .text
                syms.putLong(b + 8, 0x1000 + i).putLong(b + 16, 1);
            }
            int symtab = e.blob(syms.array());
            e.shstrndx(e.section(new Shdr(0, CraftedElf.SHT_STRTAB, 0, 0, shstr, 22, 0, 0, 1, 0)));
            e.section(new Shdr(0, CraftedElf.SHT_PROGBITS, CraftedElf.SHF_ALLOC | CraftedElf.SHF_EXECINSTR,
                    0x1000, text, 16, 0, 0, 16, 0));
            int strIndex = 4;
            e.section(new Shdr(6, CraftedElf.SHT_SYMTAB, 0, 0, symtab, 24L * count, strIndex, 1, 8, 24));
            e.section(new Shdr(14, CraftedElf.SHT_STRTAB, 0, 0, strtab, LONG_NAME + 2, 0, 0, 1, 0));
            Path f = tmp.resolve("symbols-" + suffixes + ".elf");
            e.write(f);
            BoundedJvm.Outcome o = parse(f, "symbols");
            if (suffixes) {
                assertThat(o.output()).contains("REFUSED").contains("string table");
            } else {
                assertThat(o.output()).contains("OK " + (count - 1));
            }
        }
    }
}
