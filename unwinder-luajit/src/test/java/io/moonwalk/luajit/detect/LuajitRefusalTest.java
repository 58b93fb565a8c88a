package io.moonwalk.luajit.detect;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.elf.ElfSymbol;
import io.moonwalk.elf.SymbolSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files that are not LuaJIT, and LuaJIT files we must not trust, come back with a reason — never a guess. */
@Tag("tools")
class LuajitRefusalTest {
    private static final Path LIB = LuajitFixtures.INSTALLED_LIB;

    @TempDir
    Path tmp;

    private static Detection detect(Path file) throws Exception {
        try (ElfFile elf = ElfFile.open(file)) {
            Detection d = new LuajitDetector().detect(elf, file);
            System.out.println(d.getClass().getSimpleName() + ": " + d.why().orElse("found"));
            return d;
        }
    }

    @Test
    void libcIsNotLuajit() throws Exception {
        Detection d = detect(Path.of("/lib/x86_64-linux-gnu/libc.so.6"));
        assertThat(d).isInstanceOf(Detection.NotLuajit.class);
        assertThat(d.why()).get().asString().contains("no luaJIT_");
    }

    @Test
    void nginxAndItsLuaModuleAreNotLuajit() throws Exception {
        Path module = Path.of("/usr/lib/nginx/modules/ngx_http_lua_module.so");
        // The module uses LuaJIT through the shared library; neither it nor nginx contains a VM.
        assertThat(Run.run(30, "ldd", module.toString())).contains("libluajit-5.1.so.2");
        assertThat(detect(Path.of("/usr/sbin/nginx"))).isInstanceOf(Detection.NotLuajit.class);
        Detection d = detect(module);
        assertThat(d).isInstanceOf(Detection.NotLuajit.class);
        assertThat(d.why()).get().asString().contains("no luaJIT_");
    }

    @Test
    void interpreterFilledWithInvalidOpcodesIsRefused() throws Exception {
        Path copy = patchedCopy((bytes, fde, elf) -> {
            for (long a = fde[0] + 64; a < fde[1] - 64; a++) {
                bytes.put(fileOffset(elf, a), (byte) 0x06); // invalid in 64-bit mode
            }
        });
        Detection d = detect(copy);
        assertThat(d).isInstanceOf(Detection.Refused.class);
        assertThat(d.why()).get().asString().contains("interpreter code is not the x86-64 LuaJIT emits");
    }

    @Test
    void interpreterFilledWithRandomBytesIsNeverFound() throws Exception {
        for (int seed = 1; seed <= 5; seed++) {
            Random r = new Random(seed);
            Path copy = patchedCopy((bytes, fde, elf) -> {
                for (long a = fde[0]; a < fde[1]; a++) {
                    bytes.put(fileOffset(elf, a), (byte) r.nextInt());
                }
            });
            Detection d = detect(copy);
            assertThat(d).as("seed %d", seed).isInstanceOf(Detection.Refused.class);
            Files.delete(copy);
        }
    }

    @Test
    void ambiguousVmstateStoresAreRefused() throws Exception {
        // Move one set_vmstate store to another displacement: two candidates, so no answer.
        Path copy = patchedCopy((bytes, fde, elf) -> {
            int start = fileOffset(elf, fde[0]);
            ByteBuffer blob = bytes.slice(start, (int) (fde[1] - fde[0])).order(ByteOrder.LITTLE_ENDIAN);
            int off = 0;
            while (off < blob.limit()) {
                X86Instruction in = X86Decoder.decode(blob, off, fde[0]);
                if (in.is(0xc7) && in.isMemoryAt(X86Instruction.R14) && in.imm() == -1 && in.operandSize() == 4) {
                    int dispAt = off + in.length() - 8; // disp32 then imm32 end the instruction
                    assertThat((long) blob.getInt(dispAt)).isEqualTo(in.disp());
                    blob.putInt(dispAt, (int) in.disp() + 8);
                    return;
                }
                off += in.length();
            }
            throw new AssertionError("no set_vmstate found to patch");
        });
        Detection d = detect(copy);
        assertThat(d).isInstanceOf(Detection.Refused.class);
        assertThat(d.why()).get().asString().contains("vmstate is ambiguous");
    }

    @Test
    void luaCloseThatReturnsAtOnceIsRefused() throws Exception {
        Path copy = patchedCopy((bytes, fde, elf) -> {
            ElfSymbol close = elf.functionSymbols(SymbolSource.DYNSYM).stream()
                    .filter(s -> s.name().equals("lua_close")).findFirst().orElseThrow();
            bytes.put(fileOffset(elf, close.value()), (byte) 0xc3);
        });
        Detection d = detect(copy);
        assertThat(d).isInstanceOf(Detection.Refused.class);
        assertThat(d.why()).get().asString().contains("lua_close");
    }

    @Test
    void missingEhFrameIsRefused() throws Exception {
        Path copy = patchedCopy((bytes, fde, elf) -> {
            var eh = elf.section(".eh_frame").orElseThrow();
            for (long i = 0; i < eh.size(); i++) {
                bytes.put((int) (eh.offset() + i), (byte) 0);
            }
        });
        Detection d = detect(copy);
        assertThat(d).isInstanceOf(Detection.Refused.class);
        assertThat(d.why()).get().asString().contains("FDE");
    }

    @Test
    void truncatedCopiesAreRejectedCleanly() throws Exception {
        byte[] all = Files.readAllBytes(LIB);
        for (int percent : new int[] {5, 30, 60, 95}) {
            Path copy = tmp.resolve("truncated-" + percent + ".so");
            Files.write(copy, java.util.Arrays.copyOf(all, all.length * percent / 100));
            try {
                Detection d = detect(copy);
                assertThat(d).as("%d%%: %s", percent, d).isNotInstanceOf(Detection.Found.class);
                assertThat(d.why()).get().asString().isNotBlank();
            } catch (ElfFormatException e) {
                System.out.println(percent + "%: " + e.getMessage());
                assertThat(e.getMessage()).contains(copy.toString()); // the ELF reader names the file
            }
        }
    }

    @Test
    void textSectionCutShortInsideTheInterpreterIsRefused() throws Exception {
        Path copy = patchedCopy((bytes, fde, elf) -> {
            var text = elf.sections().stream().filter(s -> s.containsAddress(fde[0]) && s.isExecutable())
                    .findFirst().orElseThrow();
            long shoff = bytes.getLong(0x28);
            int shentsize = Short.toUnsignedInt(bytes.getShort(0x3a));
            int sizeField = (int) (shoff + (long) text.index() * shentsize + 32);
            assertThat(bytes.getLong(sizeField)).isEqualTo(text.size());
            bytes.putLong(sizeField, (fde[0] + fde[1]) / 2 - text.addr()); // .text now ends mid-interpreter
        });
        Detection d = detect(copy);
        assertThat(d).isInstanceOf(Detection.Refused.class);
        assertThat(d.why()).get().asString().contains("runs past its section");
    }

    @Test
    void layoutsThatDoNotMatchAreRefused() throws Exception {
        try (ElfFile elf = ElfFile.open(LIB)) {
            Detection d = new LuajitDetector(List.of(KnownLayouts.UPSTREAM_GC64, KnownLayouts.UPSTREAM_32))
                    .detect(elf, LIB);
            assertThat(d).isInstanceOf(Detection.Refused.class);
            assertThat(d.why()).get().asString().contains("no known layout matches")
                    .contains("g2disp=0xfa8").contains("cur_L=0x170");
        }
    }

    @Test
    void syntheticBinaryWithTheFdeButNoInterpreterIsRefused() throws Exception {
        Path so = Synthetic.build(tmp, "nops", ".fill 16384, 1, 0x90", true);
        Detection d = detect(so);
        assertThat(d).isInstanceOf(Detection.Refused.class);
        assertThat(d.why()).get().asString().contains("no lea -X(%r14),%rdi");
    }

    @Test
    void syntheticBinaryWithPatternsAtUnknownOffsetsIsRefused() throws Exception {
        String code = String.join("\n",
                "lea -0x1000(%r14), %rdi",
                "movl $-1, -0x900(%r14)",
                "movq $0, -0x800(%r14)",
                "mov -0x700(%r14), %rcx",
                "mov (%rcx,%rax,8), %rcx",
                "mov %rbp, -0xe90(%r14)", // cur_L = 0x170 as lua_close says
                ".fill 16384, 1, 0x90");
        Path so = Synthetic.build(tmp, "patterns", code, true);
        Detection d = detect(so);
        assertThat(d).isInstanceOf(Detection.Refused.class);
        assertThat(d.why()).get().asString().contains("no known layout matches").contains("g2disp=0x1000")
                .contains("vmstate=0x700").contains("jit_base=0x800").contains("J->trace=g+0x900");
    }

    @Test
    void luaApiWithoutLuajitIsNotLuajit() throws Exception {
        Path so = Synthetic.build(tmp, "puc", ".fill 16384, 1, 0x90", false);
        Detection d = detect(so);
        assertThat(d).isInstanceOf(Detection.NotLuajit.class);
        assertThat(d.why()).get().asString().contains("a Lua API without LuaJIT");
    }

    interface Patch {
        void apply(ByteBuffer bytes, long[] fde, ElfFile elf) throws Exception;
    }

    /** A copy of the installed libluajit with {@code patch} applied to its bytes. */
    private Path patchedCopy(Patch patch) throws Exception {
        List<long[]> fdes = ReadelfInterpreterFde.of(LIB);
        assertThat(fdes).hasSize(1);
        byte[] all = Files.readAllBytes(LIB);
        ByteBuffer bytes = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        try (ElfFile elf = ElfFile.open(LIB)) {
            patch.apply(bytes, fdes.getFirst(), elf);
        }
        Path copy = Files.createTempFile(tmp, "libluajit-patched", ".so");
        Files.write(copy, all);
        return copy;
    }

    private static int fileOffset(ElfFile elf, long vaddr) {
        for (var s : elf.loadSegments()) {
            if (vaddr >= s.vaddr() && vaddr < s.vaddr() + s.filesz()) {
                return (int) (s.offset() + (vaddr - s.vaddr()));
            }
        }
        throw new AssertionError("0x" + Long.toHexString(vaddr) + " is not in a loaded segment");
    }
}
