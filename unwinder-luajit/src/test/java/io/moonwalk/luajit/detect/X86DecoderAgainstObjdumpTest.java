package io.moonwalk.luajit.detect;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.Section;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The decoder must find the same instruction boundaries as objdump's linear sweep over whole
 * .text sections of real binaries (compiler output plus the LuaJIT DynASM blob), and the operands
 * the detector relies on must match objdump's rendering.
 */
@Tag("tools")
class X86DecoderAgainstObjdumpTest {
    static final Path LIBLUAJIT = Path.of("/usr/lib/x86_64-linux-gnu/libluajit-5.1.so.2");
    private static final Pattern LINE = Pattern.compile("^\\s*([0-9a-f]+):\\t([0-9a-f ]+?)\\s*(?:\\t(.*))?$");

    record ObjdumpInsn(long address, int length, String text) {
    }

    /** objdump -d output, with continuation lines (long encodings) merged into their instruction. */
    static List<ObjdumpInsn> objdump(Path file, String section) {
        String out = Run.run(120, "objdump", "-d", "-j", section, "--insn-width=15", file.toString());
        List<ObjdumpInsn> list = new ArrayList<>();
        for (String line : out.split("\n")) {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            int bytes = m.group(2).trim().split(" ").length;
            list.add(new ObjdumpInsn(Long.parseLong(m.group(1), 16), bytes, m.group(3) == null ? "" : m.group(3)));
        }
        return list;
    }

    @Test
    void boundariesMatchObjdumpOverLibluajitText() throws Exception {
        compareWholeSection(LIBLUAJIT, ".text");
    }

    @Test
    void boundariesMatchObjdumpOverLibcText() throws Exception {
        compareWholeSection(Path.of("/lib/x86_64-linux-gnu/libc.so.6"), ".text");
    }

    private static void compareWholeSection(Path file, String name) throws Exception {
        List<ObjdumpInsn> truth = objdump(file, name);
        try (ElfFile elf = ElfFile.open(file)) {
            Section text = elf.section(name).orElseThrow();
            ByteBuffer data = text.data();
            int checked = 0;
            int evex = 0;
            for (ObjdumpInsn o : truth) {
                if (o.text().contains("(bad)")) {
                    break; // objdump lost step there; nothing after it is a reference
                }
                X86Instruction in;
                try {
                    in = X86Decoder.decode(data, (int) (o.address() - text.addr()), text.addr());
                } catch (X86DecodeException e) {
                    // AVX-512 (EVEX, 0x62) is deliberately unsupported: LuaJIT never emits it. Anything else is a bug.
                    assertThat(e.getMessage()).as("undecodable: %s at 0x%x", o.text(), o.address()).contains("0x62");
                    assertThat(o.text()).as("EVEX expected").containsPattern("%[xyz]mm|%k[0-7]");
                    evex++;
                    continue;
                }
                assertThat(in.length()).as("length at 0x%x (%s)", o.address(), o.text()).isEqualTo(o.length());
                checkOperands(in, o.text());
                checked++;
            }
            assertThat(checked).isGreaterThan(truth.size() * 95 / 100).isGreaterThan(10_000);
        }
    }

    private static final Pattern MEM = Pattern.compile("(-?0x[0-9a-f]+)?\\((%[a-z0-9]+)?(?:,(%[a-z0-9]+),(\\d))?\\)");
    private static final String[] REGS = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10",
        "r11", "r12", "r13", "r14", "r15"};
    private static final String[] REGS32 = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d",
        "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};

    /** Memory operands (base, index, scale, displacement) must be what objdump prints. */
    private static void checkOperands(X86Instruction in, String text) {
        if (!in.isMemory() || text.contains("%fs:") || text.contains("%gs:")) {
            return;
        }
        String[] regs = in.addr32() ? REGS32 : REGS;
        Matcher m = MEM.matcher(text);
        if (!m.find()) {
            return;
        }
        long disp = m.group(1) == null ? 0 : Long.decode(m.group(1).replace("-0x", "-0x"));
        if (m.group(2) != null && (m.group(2).equals("%rip") || m.group(2).equals("%eip"))) {
            assertThat(in.base()).as("rip base: %s", text).isEqualTo(X86Instruction.RIP);
        } else if (m.group(2) != null) {
            assertThat(regs[in.base()]).as("base: %s", text).isEqualTo(m.group(2).substring(1));
        } else {
            assertThat(in.base()).as("no base: %s", text).isEqualTo(X86Instruction.NONE);
        }
        if (m.group(3) != null) {
            assertThat(regs[in.index()]).as("index: %s", text).isEqualTo(m.group(3).substring(1));
            assertThat(in.scale()).as("scale: %s", text).isEqualTo(Integer.parseInt(m.group(4)));
        } else {
            assertThat(in.index()).as("no index: %s", text).isEqualTo(X86Instruction.NONE);
        }
        assertThat(in.disp()).as("displacement: %s", text).isEqualTo(disp);
    }
}
