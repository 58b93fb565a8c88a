package io.moonwalk.bpf.replay;

import io.moonwalk.bpf.maps.BpfMap;
import io.moonwalk.bpf.maps.BpfMaps;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the kernel's sample program ({@code mw_sample}, then the native and LuaJIT walkers by "tail call") in this
 * process, from the host build of the same C (libmwreplay.so, built by bpf/Makefile beside the BPF object). The
 * maps the agent fills are looked up in a {@link BpfMaps} (filled by the agent's own sync code), target memory in
 * a {@link TargetMemory}; every record the programs emit comes back as the bytes the kernel's ring buffer would
 * hold. The library keeps the walk's per-CPU state in globals, so walks are serialised (one at a time per JVM).
 */
public final class HostWalker {
    /** Room for the records of one sample: the sample (header + 512 words) and a few pid events. */
    static final int OUT_BYTES = 64 << 10;
    /** user_regs_struct of NT_PRSTATUS (x86_64): 27 words; the programs read its first 21 (struct pt_regs). */
    public static final int USER_REGS_WORDS = 27;
    /** Largest single read the walkers make (a GCproto header, a trace header, a few words). */
    private static final int MAX_READ = 4096;

    private static final Object LOCK = new Object();
    private static Native lib;
    /** What the current walk's callbacks read (set under LOCK for the length of one walk). */
    private static BpfMaps currentMaps;
    private static TargetMemory currentMemory;
    private static final Map<Long, BpfMap> mapsByName = new HashMap<>();
    private static final List<String> callbackErrors = new ArrayList<>();
    private static byte[] keyBuf = new byte[64];
    private static byte[] valueBuf = new byte[256];

    private final BpfMaps maps;

    private HostWalker(BpfMaps maps) {
        this.maps = maps;
    }

    /** A walker whose agent-filled maps are {@code maps}; loads the library on first use. */
    public static HostWalker over(BpfMaps maps) {
        synchronized (LOCK) {
            if (lib == null) {
                lib = Native.load();
            }
        }
        return new HostWalker(maps);
    }

    /**
     * Samples thread {@code tid} of process {@code pid} stopped at {@code userRegs} (NT_PRSTATUS order): the records
     * the programs wrote, each as its own array (a sample, pid events asking the agent to sync).
     *
     * @throws IllegalStateException a callback failed (a map of the wrong size, an exception in the memory reader)
     */
    public List<byte[]> sample(int pid, int tid, String comm, long[] userRegs, TargetMemory memory) {
        if (userRegs.length < USER_REGS_WORDS) {
            throw new IllegalArgumentException("need " + USER_REGS_WORDS + " register words, got " + userRegs.length);
        }
        synchronized (LOCK) {
            currentMaps = maps;
            currentMemory = memory;
            mapsByName.clear();
            callbackErrors.clear();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment regs = a.allocateFrom(ValueLayout.JAVA_LONG, userRegs);
                MemorySegment out = a.allocate(OUT_BYTES, 8);
                MemorySegment name = a.allocateFrom(comm == null ? "" : comm);
                int n = (int) lib.sample.invokeExact(pid, tid, name, regs, out, OUT_BYTES);
                if (!callbackErrors.isEmpty()) {
                    throw new IllegalStateException("replay of pid " + pid + " tid " + tid + ": "
                            + String.join("; ", callbackErrors));
                }
                if (n < 0) {
                    throw new IllegalStateException("replay of pid " + pid + " tid " + tid
                            + ": the records did not fit in " + OUT_BYTES + " bytes");
                }
                return split(out.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("calling libmwreplay.so failed", t);
            } finally {
                currentMaps = null;
                currentMemory = null;
            }
        }
    }

    /** The programs' counters (enum mw_stat), summed over every walk in this JVM. */
    public long[] stats() {
        synchronized (LOCK) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.JAVA_LONG, 64);
                int n = (int) lib.stats.invokeExact(out, 64);
                return out.asSlice(0, (long) n * 8).toArray(ValueLayout.JAVA_LONG);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("calling libmwreplay.so failed", t);
            }
        }
    }

    private static List<byte[]> split(byte[] all) {
        List<byte[]> records = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        while (b.remaining() >= 4) {
            int len = b.getInt();
            byte[] r = new byte[len];
            b.get(r);
            records.add(r);
        }
        return records;
    }

    // ---- callbacks from the library (never throw: an exception would end the JVM) ----

    static int read(long address, int size, MemorySegment dst) {
        try {
            if (size < 0 || size > MAX_READ) {
                return -1;
            }
            return currentMemory != null && currentMemory.read(address, dst.reinterpret(size)) ? 0 : -1;
        } catch (Throwable t) {
            callbackErrors.add("reading 0x" + Long.toHexString(address) + ": " + t);
            return -1;
        }
    }

    static int lookup(MemorySegment name, MemorySegment key, int keySize, MemorySegment value, int valueSize) {
        try {
            BpfMap m = mapsByName.get(name.address());
            if (m == null) {
                String n = name.reinterpret(64).getString(0, StandardCharsets.US_ASCII);
                m = currentMaps.map(n);
                mapsByName.put(name.address(), m);
            }
            if (m.keySize() != keySize || m.valueSize() != valueSize) {
                callbackErrors.add("map " + m.name() + " has " + m.keySize() + "-byte keys and " + m.valueSize()
                        + "-byte values, the C has " + keySize + " and " + valueSize);
                return 0;
            }
            if (keyBuf.length != keySize) {
                keyBuf = new byte[keySize];
            }
            if (valueBuf.length != valueSize) {
                valueBuf = new byte[valueSize];
            }
            MemorySegment.copy(key.reinterpret(keySize), ValueLayout.JAVA_BYTE, 0, keyBuf, 0, keySize);
            if (!m.lookup(keyBuf, valueBuf)) {
                return 0;
            }
            MemorySegment.copy(valueBuf, 0, value.reinterpret(valueSize), ValueLayout.JAVA_BYTE, 0, valueSize);
            return 1;
        } catch (Throwable t) {
            callbackErrors.add("map lookup: " + t);
            return 0;
        }
    }

    /** The library, loaded once per JVM from this module's resources, with its callbacks bound. */
    private record Native(MethodHandle sample, MethodHandle stats) {
        static Native load() {
            Path so = extract();
            Linker linker = Linker.nativeLinker();
            SymbolLookup lookup = SymbolLookup.libraryLookup(so, Arena.global());
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                MemorySegment readStub = linker.upcallStub(
                        l.findStatic(HostWalker.class, "read",
                                MethodType.methodType(int.class, long.class, int.class, MemorySegment.class)),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS),
                        Arena.global());
                MemorySegment lookupStub = linker.upcallStub(
                        l.findStatic(HostWalker.class, "lookup", MethodType.methodType(int.class,
                                MemorySegment.class, MemorySegment.class, int.class, MemorySegment.class, int.class)),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                        Arena.global());
                MethodHandle bind = linker.downcallHandle(symbol(lookup, "mw_replay_bind"),
                        FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
                bind.invokeExact(readStub, lookupStub);
                MethodHandle sample = linker.downcallHandle(symbol(lookup, "mw_replay_sample"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
                MethodHandle stats = linker.downcallHandle(symbol(lookup, "mw_replay_stats"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
                return new Native(sample, stats);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("binding libmwreplay.so failed", t);
            }
        }

        private static MemorySegment symbol(SymbolLookup lookup, String name) {
            return lookup.find(name).orElseThrow(() -> new IllegalStateException(
                    "libmwreplay.so has no " + name + ": rebuild the bpf module (make -C bpf replay)"));
        }

        /** The library from this module's resources, copied to a file the dynamic loader can open. */
        private static Path extract() {
            try (InputStream in = HostWalker.class.getResourceAsStream("/io/moonwalk/bpf/libmwreplay.so")) {
                if (in == null) {
                    throw new IllegalStateException("libmwreplay.so is not on the class path (io/moonwalk/bpf/):"
                            + " the bpf module's build makes it with `make` (clang needed)");
                }
                Path f = Files.createTempFile("libmwreplay", ".so");
                f.toFile().deleteOnExit();
                Files.copy(in, f, StandardCopyOption.REPLACE_EXISTING);
                return f;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract libmwreplay.so to a temporary file", e);
            }
        }
    }
}
