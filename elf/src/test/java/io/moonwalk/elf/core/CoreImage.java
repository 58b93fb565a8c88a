package io.moonwalk.elf.core;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Builds small x86_64 core files for tests: notes as the kernel writes them and PT_LOAD segments with contents. */
final class CoreImage {
    record Load(long vaddr, byte[] data, long memsz, int flags) {
    }

    record Note(String name, int type, byte[] desc) {
    }

    private final List<Load> loads = new ArrayList<>();
    private final List<Note> notes = new ArrayList<>();

    CoreImage load(long vaddr, byte[] data, long memsz, int flags) {
        loads.add(new Load(vaddr, data, memsz, flags));
        return this;
    }

    CoreImage note(String name, int type, byte[] desc) {
        notes.add(new Note(name, type, desc));
        return this;
    }

    CoreImage thread(int tid, long rip, long rsp, long rbp) {
        ByteBuffer d = le(336);
        d.putShort(12, (short) 11);
        d.putInt(32, tid);
        d.putLong(112 + 8 * CoreThread.RBP, rbp);
        d.putLong(112 + 8 * CoreThread.RIP, rip);
        d.putLong(112 + 8 * CoreThread.RSP, rsp);
        return note("CORE", CoreFile.NT_PRSTATUS, d.array());
    }

    CoreImage process(int pid, String fname, String args) {
        ByteBuffer d = le(136);
        d.putInt(24, pid);
        byte[] f = fname.getBytes(StandardCharsets.UTF_8);
        d.put(40, f, 0, Math.min(15, f.length));
        byte[] a = args.getBytes(StandardCharsets.UTF_8);
        d.put(56, a, 0, Math.min(79, a.length));
        return note("CORE", CoreFile.NT_PRPSINFO, d.array());
    }

    CoreImage auxv(long... pairs) {
        ByteBuffer d = le(8 * pairs.length);
        for (long p : pairs) {
            d.putLong(p);
        }
        return note("CORE", CoreFile.NT_AUXV, d.array());
    }

    /** files: start, end, page offset, path (in groups). */
    CoreImage files(Object... f) {
        int n = f.length / 4;
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        ByteBuffer head = le(16 + 24 * n);
        head.putLong((long) n).putLong(4096);
        for (int i = 0; i < n; i++) {
            head.putLong((Long) f[4 * i]).putLong((Long) f[4 * i + 1]).putLong((Long) f[4 * i + 2]);
            names.writeBytes(((String) f[4 * i + 3]).getBytes(StandardCharsets.UTF_8));
            names.write(0);
        }
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(head.array());
        all.writeBytes(names.toByteArray());
        return note("CORE", CoreFile.NT_FILE, all.toByteArray());
    }

    byte[] build() {
        ByteArrayOutputStream noteBytes = new ByteArrayOutputStream();
        for (Note n : notes) {
            byte[] name = (n.name + "\0").getBytes(StandardCharsets.US_ASCII);
            ByteBuffer h = le(12);
            h.putInt(name.length).putInt(n.desc.length).putInt(n.type);
            noteBytes.writeBytes(h.array());
            noteBytes.writeBytes(pad4(name));
            noteBytes.writeBytes(pad4(n.desc));
        }
        int phnum = 1 + loads.size();
        long off = 64 + 56L * phnum;
        ByteBuffer out = le((int) (off + noteBytes.size() + loads.stream().mapToLong(l -> l.data.length).sum()));
        out.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        out.putShort(16, (short) 4).putShort(18, (short) 62).putInt(20, 1);
        out.putLong(32, 64).putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) phnum);
        int ph = 64;
        out.putInt(ph, 4).putLong(ph + 8, off).putLong(ph + 32, noteBytes.size()).putLong(ph + 40, 0)
                .putLong(ph + 48, 4);
        out.put((int) off, noteBytes.toByteArray());
        long dataOff = off + noteBytes.size();
        for (int i = 0; i < loads.size(); i++) {
            Load l = loads.get(i);
            int p = 64 + 56 * (i + 1);
            out.putInt(p, 1).putInt(p + 4, l.flags).putLong(p + 8, dataOff).putLong(p + 16, l.vaddr)
                    .putLong(p + 32, l.data.length).putLong(p + 40, l.memsz).putLong(p + 48, 4096);
            out.put((int) dataOff, l.data);
            dataOff += l.data.length;
        }
        return out.array();
    }

    /** A plausible small core: two threads, a stack, a heap, a file mapping left out of the core. */
    static byte[] sample() {
        byte[] stack = new byte[4096];
        ByteBuffer.wrap(stack).order(ByteOrder.LITTLE_ENDIAN).putLong(0x10, 0x401234L);
        return new CoreImage()
                .thread(100, 0x401000, 0x7ffd0010, 0x7ffd0020)
                .process(100, "workload", "./workload --arg")
                .thread(101, 0x401100, 0x7ffd8000, 0)
                .auxv(CoreFile.AT_SYSINFO_EHDR, 0x7fff0000L, 0, 0)
                .files(0x400000L, 0x402000L, 0L, "/usr/bin/workload")
                .load(0x400000, new byte[0], 0x2000, 5)
                .load(0x7ffd0000L, stack, 4096, 6)
                .load(0x7fff0000L, new byte[] {0x7f, 'E', 'L', 'F'}, 4096, 5)
                .build();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] pad4(byte[] b) {
        byte[] p = new byte[(b.length + 3) & ~3];
        System.arraycopy(b, 0, p, 0, b.length);
        return p;
    }
}
