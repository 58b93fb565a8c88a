package io.moonwalk.bpf.layout;


import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The one Java mirror of the headers the kernel shares with the agent ({@code bpf/src/moonwalk.h}: records
 * and frame words; {@code unwind.h}: the native walker's map keys and values; {@code luajit.h}: the LuaJIT
 * walker's). Every struct is a {@link StructLayout} whose members RecordLayoutTest checks one by one (name,
 * offset, size) against the BTF of the compiled object, and every constant is checked against a C program
 * compiled from the headers: a change on one side only fails the build.
 *
 * <p>Map keys and values are written and read only through the {@link VarHandle}s below (coordinates: a
 * {@link java.lang.foreign.MemorySegment} over the key/value bytes and the struct's base offset in it), never
 * with literal offsets. The layouts are byte-aligned so that they can address {@code byte[]} map buffers.
 */
public final class RecordLayout {
    private RecordLayout() {}

    private static final ValueLayout.OfByte U8 = JAVA_BYTE;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32_BE = U32.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong U64_BE = U64.withOrder(ByteOrder.BIG_ENDIAN);

    // enum mw_event_type
    public static final int EVENT_SAMPLE = 1;
    public static final int EVENT_EXIT = 2;
    public static final int EVENT_NEW_PID = 3;
    public static final int EVENT_UNKNOWN_PC = 4;
    public static final int EVENT_EXEC = 5;
    public static final int EVENT_UNKNOWN_LEAF = 6;

    // enum mw_frame_kind
    public static final int FRAME_KERNEL = 1;
    public static final int FRAME_NATIVE = 2;
    public static final int FRAME_LUA = 3;
    public static final int FRAME_LUA_JIT = 4;
    public static final int FRAME_LUA_C = 5;
    public static final int FRAME_ERROR = 15;

    // enum mw_frame_bits: positions and widths of the frame-word fields
    public static final int FRAME_KIND_SHIFT = 60;
    public static final int FRAME_EXTRA_SHIFT = 56;
    public static final int FRAME_EXTRA_BITS = 4;
    public static final int FRAME_PAYLOAD_BITS = 56;
    public static final int FRAME_ADDR_BITS = 48;
    public static final int FRAME_RETURN_ADDR_BIT = 48;
    public static final int LUA_PC_BITS = 32;
    public static final int LUA_JIT_TRACENO_SHIFT = 32;
    public static final int LUA_JIT_TRACENO_BITS = 16;
    public static final int LUA_JIT_SIDE_BIT = 48;
    public static final int LUA_C_FFID_SHIFT = 48;
    public static final int LUA_C_FFID_BITS = 8;
    /** LUA_JIT: extra words after the first (word 5 the GCtrace, word 6 the PC in its mcode) */
    public static final int LUA_JIT_EXTRA_WORDS = 6;

    public static final long FRAME_PAYLOAD_MASK = (1L << FRAME_PAYLOAD_BITS) - 1;
    public static final long FRAME_ADDR_MASK = (1L << FRAME_ADDR_BITS) - 1;
    public static final long FRAME_RETURN_ADDR = 1L << FRAME_RETURN_ADDR_BIT;
    /** LUA / LUA_JIT frame word 1 when the frame's bytecode index is unknown */
    public static final long LUA_PC_UNKNOWN = (1L << LUA_PC_BITS) - 1;
    /** LUA_JIT frame word 1: the trace is a side trace */
    public static final long LUA_JIT_SIDE = 1L << LUA_JIT_SIDE_BIT;

    /** Extra words that follow a frame's first word. */
    public static int frameExtraWords(long word) {
        return (int) (word >>> FRAME_EXTRA_SHIFT) & ((1 << FRAME_EXTRA_BITS) - 1);
    }

    /** LUA / LUA_JIT word 1: the bytecode index ({@link #LUA_PC_UNKNOWN} when unknown). */
    public static long luaPc(long word1) {
        return word1 & LUA_PC_UNKNOWN;
    }

    /** LUA_JIT word 1: the trace number (0: no trace matched). */
    public static int luaJitTrace(long word1) {
        return (int) (word1 >>> LUA_JIT_TRACENO_SHIFT) & ((1 << LUA_JIT_TRACENO_BITS) - 1);
    }

    /** LUA_JIT word 1: the trace is a side trace. */
    public static boolean luaJitSide(long word1) {
        return (word1 & LUA_JIT_SIDE) != 0;
    }

    /** LUA_C word 1: the function's ffid (lj_obj.h: FF_C = 1 for a plain C function, higher for a built-in). */
    public static int luaCFfid(long word1) {
        return (int) (word1 >>> LUA_C_FFID_SHIFT) & ((1 << LUA_C_FFID_BITS) - 1);
    }

    /** LUA_C word 1: the C entry point. */
    public static long luaCEntry(long word1) {
        return word1 & FRAME_ADDR_MASK;
    }

    // enum mw_error_reason
    public static final int ERR_NONE = 0;
    public static final int ERR_USER_STACK_FAILED = 1;
    public static final int ERR_DEPTH_LIMIT = 2;
    public static final int ERR_NO_MAPPING = 3;
    public static final int ERR_NO_UNWIND_INFO = 4;
    public static final int ERR_READ_FAULT = 5;
    public static final int ERR_KERNEL_STACK_FAILED = 6;
    public static final int ERR_PROCESS_NOT_SYNCED = 7;
    public static final int ERR_BAD_CFA = 8;
    public static final int ERR_UNSUPPORTED_CFI = 9;
    public static final int ERR_WALKER_UNAVAILABLE = 10;
    public static final int ERR_LUA_NO_VM = 11;
    public static final int ERR_LUA_BAD_FRAME = 12;
    public static final int ERR_LUA_READ_FAULT = 13;

    public static final int MAX_KERNEL_FRAMES = 127;
    public static final int MAX_USER_FRAMES = 256;
    public static final int MAX_FP_USER_FRAMES = 127;
    public static final int MAX_FRAME_WORDS = 512;
    public static final int COMM_LEN = 16;

    // sample flags
    public static final int SAMPLE_KERNEL_MODE = 0x1;
    public static final int SAMPLE_TRUNCATED = 0x2;

    // enum mw_sample_kind: what a sample record stands for
    public static final int SAMPLE_KIND_CPU = 0;
    public static final int SAMPLE_KIND_OFF_CPU = 1;
    public static final int SAMPLE_KIND_MMAP = 2;
    public static final int MMAP_PROCESSES = 4096;

    // enum mw_stat: indexes of BpfSampler.stats()
    public static final int STAT_SAMPLES = 0;
    public static final int STAT_SKIPPED_IDLE = 1;
    public static final int STAT_SKIPPED_FILTER = 2;
    public static final int STAT_RINGBUF_FULL = 3;
    public static final int STAT_KERNEL_STACK_ERR = 4;
    public static final int STAT_USER_STACK_ERR = 5;
    public static final int STAT_EXITS = 6;
    public static final int STAT_NOT_SYNCED = 7;
    public static final int STAT_PID_EVENTS = 8;
    public static final int STAT_PID_EVENTS_LIMITED = 9;
    public static final int STAT_WALKER_FAILED = 10;
    public static final int STAT_UNWIND_ERRORS = 11;
    public static final int STAT_UNWIND_COMPLETE = 12;
    public static final int STAT_LUA_SEGMENTS = 13;
    public static final int STAT_LUA_ERRORS = 14;
    public static final int STAT_EXECS = 15;
    public static final int STAT_JIT_SEGMENTS = 16;
    public static final int STAT_JIT_UNMATCHED = 17;
    public static final int STAT_JIT_CFA_DISAGREE = 18;
    public static final int STAT_OFF_CPU_WAITS = 19;
    public static final int STAT_OFF_CPU_SHORT = 20;
    public static final int STAT_OFF_CPU_LOST = 21;
    public static final int STAT_OFF_CPU_SAMPLES = 22;
    public static final int STAT_MMAP_CALLS = 23;
    public static final int STAT_MMAP_SAMPLES = 24;
    public static final int STAT_MMAP_LOST = 25;
    public static final int STAT_MAX = 26;

    /** struct mw_sample (the full struct; records in the ring buffer end after frame_words words). */
    public static final StructLayout SAMPLE = MemoryLayout.structLayout(
            U32.withName("type"),
            U32.withName("pid"),
            U32.withName("tid"),
            U32.withName("cpu"),
            U64.withName("ktime_ns"),
            MemoryLayout.sequenceLayout(COMM_LEN, U8).withName("comm"),
            U16.withName("frame_words"),
            U16.withName("kernel_frames"),
            U32.withName("flags"),
            U64.withName("vm"),
            U32.withName("vmstate"),
            U32.withName("kind"),
            U64.withName("value"),
            MemoryLayout.sequenceLayout(MAX_FRAME_WORDS, U64).withName("frames")
    ).withName("mw_sample");

    /** struct mw_mmap_counts (mmap_counts value, key: u32 tgid) */
    public static final StructLayout MMAP_COUNTS = MemoryLayout.structLayout(
            U64.withName("mmap"),
            U64.withName("munmap"),
            U64.withName("mprotect"),
            U64.withName("last_ns"),
            U64.withName("pending"),
            U64.withName("limited")
    ).withName("mw_mmap_counts");

    /** struct mw_exit */
    public static final StructLayout EXIT = MemoryLayout.structLayout(
            U32.withName("type"),
            U32.withName("pid"),
            U64.withName("ktime_ns")
    ).withName("mw_exit");

    /** struct mw_pid_event */
    public static final StructLayout PID_EVENT = MemoryLayout.structLayout(
            U32.withName("type"),
            U32.withName("pid"),
            U64.withName("pc")
    ).withName("mw_pid_event");

    /** struct mw_config */
    public static final StructLayout CONFIG = MemoryLayout.structLayout(
            U32.withName("agent_pid"),
            U32.withName("filter_pids"),
            U32.withName("user_stacks"),
            U32.withName("reserved"),
            U64.withName("pidns_dev"),
            U64.withName("pidns_ino"),
            U64.withName("off_cpu_min_ns"),
            U64.withName("mmap_interval_ns")
    ).withName("mw_config");

    // ---- bpf/src/unwind.h: the native unwinder's maps ----

    // map sizes (entries); the agent reads the loaded maps' sizes, these are the defaults
    public static final int PID_MAPS_ENTRIES = 262144;
    public static final int UNWIND_FILES_ENTRIES = 8192;
    public static final int UNWIND_ENTRIES_ENTRIES = 4194304;
    public static final int UNWIND_RULES_ENTRIES = 65536;
    public static final int PID_EVENTS_ENTRIES = 16384;

    // enum mw_rule_kind (mw_unwind_rule.kind)
    public static final int RULE_INVALID = 0;
    public static final int RULE_CFA_RSP = 1;
    public static final int RULE_CFA_RBP = 2;
    public static final int RULE_PLT = 3;
    public static final int RULE_SIGNAL = 4;
    public static final int RULE_END = 5;
    public static final int RULE_UNSUPPORTED = 6;
    public static final int RULE_CFA_RSP_BLOB = 7;

    // enum mw_rbp_kind (mw_unwind_rule.rbp_kind)
    public static final int RBP_UNCHANGED = 0;
    public static final int RBP_SAVED_AT_CFA = 1;
    public static final int RBP_LOST = 2;

    // enum mw_map_kind
    public static final int MAP_NATIVE = 1;
    public static final int MAP_PID_MARKER = 2;
    /** a LuaJIT mcode area: file_id = the LuaJIT binary's luajit_files key, bias = the VM's global_State */
    public static final int MAP_LUAJIT_MCODE = 3;

    /** struct mw_pid_key: prefixlen in host order, pid and address big-endian (the trie compares from the top bit) */
    public static final StructLayout PID_KEY = MemoryLayout.structLayout(
            U32.withName("prefixlen"),
            U32_BE.withName("pid_be"),
            U64_BE.withName("address_be")
    ).withName("mw_pid_key");

    /** struct mw_mapping (pid_maps value) */
    public static final StructLayout MAPPING = MemoryLayout.structLayout(
            U64.withName("file_id"),
            U64.withName("bias"),
            U32.withName("kind"),
            U32.withName("flags")
    ).withName("mw_mapping");

    /** struct mw_file_table (unwind_files value) */
    public static final StructLayout FILE_TABLE = MemoryLayout.structLayout(
            U64.withName("base"),
            U32.withName("first"),
            U32.withName("count")
    ).withName("mw_file_table");

    /** struct mw_unwind_entry (unwind_entries value) */
    public static final StructLayout UNWIND_ENTRY = MemoryLayout.structLayout(
            U32.withName("pc"),
            U16.withName("rule"),
            U16.withName("reserved")
    ).withName("mw_unwind_entry");

    /** struct mw_unwind_rule (unwind_rules value) */
    public static final StructLayout UNWIND_RULE = MemoryLayout.structLayout(
            U8.withName("kind"),
            U8.withName("rbp_kind"),
            U16.withName("rbp_offset"),
            U32.withName("cfa_offset")
    ).withName("mw_unwind_rule");

    // ---- bpf/src/luajit.h: the LuaJIT walker's maps ----

    public static final int LUAJIT_FILES_ENTRIES = 256;
    /** mw_mapping.flags bit: the mapping's file is LuaJIT (luajit_files[file_id] exists) */
    public static final int MAPPING_LUAJIT = 0x1;
    public static final int LJ_HDR_BYTES = 128;

    /** struct mw_luajit_file (luajit_files value) */
    public static final StructLayout LUAJIT_FILE = MemoryLayout.structLayout(
            U64.withName("interp_start"),
            U64.withName("interp_end"),
            U32.withName("g2disp"),
            U16.withName("interp_cfa"),
            U8.withName("gc64"),
            U8.withName("reserved"),
            U16.withName("cf_l"),
            U16.withName("cf_pc"),
            U16.withName("l_glref"),
            U16.withName("l_base"),
            U16.withName("l_stack"),
            U16.withName("l_maxstack"),
            U16.withName("l_cframe"),
            U16.withName("reserved2"),
            U16.withName("g_vmstate"),
            U16.withName("g_cur_l"),
            U16.withName("gc_gct"),
            U16.withName("fn_ffid"),
            U16.withName("fn_pc"),
            U16.withName("fn_cf"),
            U16.withName("pt_size"),
            U16.withName("pt_sizebc"),
            U16.withName("pt_sizept"),
            U16.withName("pt_sizekgc"),
            U16.withName("pt_sizekn"),
            U16.withName("pt_numparams"),
            U16.withName("pt_framesize"),
            U16.withName("pt_sizeuv"),
            U16.withName("pt_firstline"),
            U16.withName("pt_numline"),
            U16.withName("pt_chunkname"),
            U16.withName("pt_lineinfo"),
            U16.withName("g_jit_base"),
            U16.withName("g_j_trace"),
            U16.withName("g_j_sizetrace"),
            U16.withName("t_mcode"),
            U16.withName("t_szmcode"),
            U16.withName("t_spadjust"),
            U16.withName("t_traceno"),
            U16.withName("t_root"),
            U16.withName("t_startpt"),
            U16.withName("t_startpc"),
            U32.withName("reserved3"),
            U32.withName("reserved4")
    ).withName("mw_luajit_file");

    public static final long SAMPLE_TYPE = SAMPLE.byteOffset(groupElement("type"));
    public static final long SAMPLE_PID = SAMPLE.byteOffset(groupElement("pid"));
    public static final long SAMPLE_TID = SAMPLE.byteOffset(groupElement("tid"));
    public static final long SAMPLE_CPU = SAMPLE.byteOffset(groupElement("cpu"));
    public static final long SAMPLE_KTIME_NS = SAMPLE.byteOffset(groupElement("ktime_ns"));
    public static final long SAMPLE_COMM = SAMPLE.byteOffset(groupElement("comm"));
    public static final long SAMPLE_FRAME_WORDS = SAMPLE.byteOffset(groupElement("frame_words"));
    public static final long SAMPLE_KERNEL_FRAMES = SAMPLE.byteOffset(groupElement("kernel_frames"));
    public static final long SAMPLE_FLAGS = SAMPLE.byteOffset(groupElement("flags"));
    public static final long SAMPLE_VM = SAMPLE.byteOffset(groupElement("vm"));
    public static final long SAMPLE_VMSTATE = SAMPLE.byteOffset(groupElement("vmstate"));
    public static final long SAMPLE_KIND = SAMPLE.byteOffset(groupElement("kind"));
    public static final long SAMPLE_VALUE = SAMPLE.byteOffset(groupElement("value"));
    /** Bytes before the first frame word: the fixed part of every sample record. */
    public static final long SAMPLE_HEADER_BYTES = SAMPLE.byteOffset(groupElement("frames"));

    public static final long PID_EVENT_PID = PID_EVENT.byteOffset(groupElement("pid"));
    public static final long PID_EVENT_PC = PID_EVENT.byteOffset(groupElement("pc"));

    public static final long EXIT_PID = EXIT.byteOffset(groupElement("pid"));
    public static final long EXIT_KTIME_NS = EXIT.byteOffset(groupElement("ktime_ns"));

    public static final long CONFIG_AGENT_PID = CONFIG.byteOffset(groupElement("agent_pid"));
    public static final long CONFIG_FILTER_PIDS = CONFIG.byteOffset(groupElement("filter_pids"));
    public static final long CONFIG_USER_STACKS = CONFIG.byteOffset(groupElement("user_stacks"));
    public static final long CONFIG_PIDNS_DEV = CONFIG.byteOffset(groupElement("pidns_dev"));
    public static final long CONFIG_PIDNS_INO = CONFIG.byteOffset(groupElement("pidns_ino"));
    public static final long CONFIG_OFF_CPU_MIN_NS = CONFIG.byteOffset(groupElement("off_cpu_min_ns"));
    public static final long CONFIG_MMAP_INTERVAL_NS = CONFIG.byteOffset(groupElement("mmap_interval_ns"));
    public static final long MMAP_COUNTS_MMAP = MMAP_COUNTS.byteOffset(groupElement("mmap"));
    public static final long MMAP_COUNTS_MUNMAP = MMAP_COUNTS.byteOffset(groupElement("munmap"));
    public static final long MMAP_COUNTS_MPROTECT = MMAP_COUNTS.byteOffset(groupElement("mprotect"));
    public static final long MMAP_COUNTS_LIMITED = MMAP_COUNTS.byteOffset(groupElement("limited"));

    // ---- field handles: (MemorySegment bytes, long base offset of the struct) ----

    public static final VarHandle PID_KEY_PREFIXLEN = field(PID_KEY, "prefixlen");
    public static final VarHandle PID_KEY_PID = field(PID_KEY, "pid_be");
    public static final VarHandle PID_KEY_ADDRESS = field(PID_KEY, "address_be");

    public static final VarHandle MAPPING_FILE_ID = field(MAPPING, "file_id");
    public static final VarHandle MAPPING_BIAS = field(MAPPING, "bias");
    public static final VarHandle MAPPING_KIND = field(MAPPING, "kind");
    public static final VarHandle MAPPING_FLAGS = field(MAPPING, "flags");

    public static final VarHandle FILE_TABLE_BASE = field(FILE_TABLE, "base");
    public static final VarHandle FILE_TABLE_FIRST = field(FILE_TABLE, "first");
    public static final VarHandle FILE_TABLE_COUNT = field(FILE_TABLE, "count");

    public static final VarHandle UNWIND_ENTRY_PC = field(UNWIND_ENTRY, "pc");
    public static final VarHandle UNWIND_ENTRY_RULE = field(UNWIND_ENTRY, "rule");

    public static final VarHandle UNWIND_RULE_KIND = field(UNWIND_RULE, "kind");
    public static final VarHandle UNWIND_RULE_RBP_KIND = field(UNWIND_RULE, "rbp_kind");
    public static final VarHandle UNWIND_RULE_RBP_OFFSET = field(UNWIND_RULE, "rbp_offset");
    public static final VarHandle UNWIND_RULE_CFA_OFFSET = field(UNWIND_RULE, "cfa_offset");

    /** Key of unwind_files and luajit_files: the file id (u64). */
    public static final ValueLayout.OfLong FILE_ID_KEY = U64;
    /** Key of the array maps (unwind_entries, unwind_rules, config_map, stats): the index (u32). */
    public static final ValueLayout.OfInt INDEX_KEY = U32;

    /** The key bytes of unwind_files / luajit_files for a file id. */
    public static byte[] fileIdKey(long fileId) {
        byte[] k = new byte[(int) FILE_ID_KEY.byteSize()];
        MemorySegment.ofArray(k).set(FILE_ID_KEY, 0, fileId);
        return k;
    }

    /** The handle of one member of {@code struct}: coordinates (segment, base offset of the struct). */
    public static VarHandle field(StructLayout struct, String member) {
        return struct.varHandle(groupElement(member));
    }
}
