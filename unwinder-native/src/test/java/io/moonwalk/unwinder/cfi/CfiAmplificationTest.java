package io.moonwalk.unwinder.cfi;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.testfixtures.BoundedJvm;
import io.moonwalk.testfixtures.CraftedElf;
import io.moonwalk.testfixtures.CraftedElf.Shdr;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A compressed CFI section whose header claims a size its data cannot produce must be refused
 * without allocating that size (parsed in a child JVM with a 64 MiB heap), and one whose data
 * really inflates must be read with memory that follows the inflated bytes.
 */
@Tag("pure")
class CfiAmplificationTest {
    private static Path elfWithCompressedDebugFrame(Path file, long claimed, byte[] zlib) throws Exception {
        CraftedElf e = new CraftedElf();
        int shstr = e.blob(".text\0.debug_frame\0".getBytes());
        int text = e.blob(new byte[16]);
        ByteBuffer section = ByteBuffer.allocate(24 + zlib.length).order(ByteOrder.LITTLE_ENDIAN);
        section.putInt(0, 1).putLong(8, claimed).putLong(16, 1); // Elf64_Chdr: ZLIB, size, align
        section.put(24, zlib);
        int df = e.blob(section.array());
        e.shstrndx(e.section(new Shdr(0, CraftedElf.SHT_STRTAB, 0, 0, shstr, 20, 0, 0, 1, 0)));
        e.section(new Shdr(1, CraftedElf.SHT_PROGBITS, CraftedElf.SHF_ALLOC | CraftedElf.SHF_EXECINSTR, 0x1000,
                text, 16, 0, 0, 16, 0));
        e.section(new Shdr(6, CraftedElf.SHT_PROGBITS, CraftedElf.SHF_COMPRESSED, 0, df, section.capacity(), 0, 0,
                8, 0));
        e.write(file);
        return file;
    }

    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(9);
        d.setInput(data);
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        while (!d.finished()) {
            out.write(buf, 0, d.deflate(buf));
        }
        d.end();
        return out.toByteArray();
    }

    @Test
    void aHeaderClaimingMoreThanDeflateCanProduceIsRefusedWithoutAllocatingIt(@TempDir Path tmp) throws Exception {
        Path f = elfWithCompressedDebugFrame(tmp.resolve("lie.elf"), 200L << 20, deflate(new byte[64]));
        BoundedJvm.Outcome o = BoundedJvm.run("64m", 30, CfiProbe.class, f.toString());
        assertThat(o.timedOut()).isFalse();
        assertThat(o.exitCode()).as("no OutOfMemoryError: %s", o.output()).isZero();
        assertThat(o.output()).contains("beyond what deflate can produce");
    }

    @Test
    void aHeaderOverstatingRealDataIsRefusedAfterInflatingOnlyWhatIsThere(@TempDir Path tmp) throws Exception {
        // 256 KiB of zeros deflate to ~300 bytes; a claim of 300 KiB is plausible for that input
        // but the data ends early: refused, having grown the buffer only as far as the data went.
        byte[] zlib = deflate(new byte[256 << 10]);
        Path f = elfWithCompressedDebugFrame(tmp.resolve("short.elf"), Math.min(300L << 10, zlib.length * 1000L), zlib);
        BoundedJvm.Outcome o = BoundedJvm.run("64m", 30, CfiProbe.class, f.toString());
        assertThat(o.exitCode()).as("no OutOfMemoryError: %s", o.output()).isZero();
        assertThat(o.output()).contains("inflated to 262144 bytes, but its header says");
    }
}
