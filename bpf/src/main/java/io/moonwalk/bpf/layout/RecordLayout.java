package io.moonwalk.bpf.layout;


import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * The one Java mirror of {@code bpf/src/moonwalk.h}: record layouts, frame-word encoding and
 * constants. A test checks the layouts against the BTF of the compiled BPF object, so a change to
 * the header that is not made here too fails the build.
 */
public final class RecordLayout {
    private RecordLayout() {}

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

    public static final int FRAME_KIND_SHIFT = 60;
    public static final int FRAME_EXTRA_SHIFT = 56;
    public static final long FRAME_PAYLOAD_MASK = 0x00ff_ffff_ffff_ffffL;
    public static final long FRAME_ADDR_MASK = 0x0000_ffff_ffff_ffffL;
    public static final long FRAME_RETURN_ADDR = 1L << 48;

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
    public static final int STAT_MAX = 19;

    /** struct mw_sample (the full struct; records in the ring buffer end after frame_words words). */
    public static final StructLayout SAMPLE = MemoryLayout.structLayout(
            JAVA_INT.withName("type"),
            JAVA_INT.withName("pid"),
            JAVA_INT.withName("tid"),
            JAVA_INT.withName("cpu"),
            JAVA_LONG.withName("ktime_ns"),
            MemoryLayout.sequenceLayout(COMM_LEN, JAVA_BYTE).withName("comm"),
            JAVA_SHORT.withName("frame_words"),
            JAVA_SHORT.withName("kernel_frames"),
            JAVA_INT.withName("flags"),
            JAVA_LONG.withName("vm"),
            JAVA_INT.withName("vmstate"),
            JAVA_INT.withName("reserved"),
            MemoryLayout.sequenceLayout(MAX_FRAME_WORDS, JAVA_LONG).withName("frames")
    ).withName("mw_sample");

    /** struct mw_exit */
    public static final StructLayout EXIT = MemoryLayout.structLayout(
            JAVA_INT.withName("type"),
            JAVA_INT.withName("pid"),
            JAVA_LONG.withName("ktime_ns")
    ).withName("mw_exit");

    /** struct mw_pid_event */
    public static final StructLayout PID_EVENT = MemoryLayout.structLayout(
            JAVA_INT.withName("type"),
            JAVA_INT.withName("pid"),
            JAVA_LONG.withName("pc")
    ).withName("mw_pid_event");

    /** struct mw_config */
    public static final StructLayout CONFIG = MemoryLayout.structLayout(
            JAVA_INT.withName("agent_pid"),
            JAVA_INT.withName("filter_pids"),
            JAVA_INT.withName("user_stacks"),
            JAVA_INT.withName("reserved"),
            JAVA_LONG.withName("pidns_dev"),
            JAVA_LONG.withName("pidns_ino")
    ).withName("mw_config");

    // ---- bpf/src/unwind.h: the native unwinder's maps ----

    // enum mw_map_kind
    public static final int MAP_NATIVE = 1;
    public static final int MAP_PID_MARKER = 2;
    /** a LuaJIT mcode area: file_id = the LuaJIT binary's luajit_files key, bias = the VM's global_State */
    public static final int MAP_LUAJIT_MCODE = 3;

    /** struct mw_pid_key: pid and address big-endian (see LpmPrefixes.encodeKey) */
    public static final StructLayout PID_KEY = MemoryLayout.structLayout(
            JAVA_INT.withName("prefixlen"),
            JAVA_INT.withName("pid_be"),
            JAVA_LONG.withName("address_be")
    ).withName("mw_pid_key");

    /** struct mw_mapping (pid_maps value) */
    public static final StructLayout MAPPING = MemoryLayout.structLayout(
            JAVA_LONG.withName("file_id"),
            JAVA_LONG.withName("bias"),
            JAVA_INT.withName("kind"),
            JAVA_INT.withName("flags")
    ).withName("mw_mapping");

    /** struct mw_file_table (unwind_files value) */
    public static final StructLayout FILE_TABLE = MemoryLayout.structLayout(
            JAVA_LONG.withName("base"),
            JAVA_INT.withName("first"),
            JAVA_INT.withName("count")
    ).withName("mw_file_table");

    /** struct mw_unwind_entry (unwind_entries value) */
    public static final StructLayout UNWIND_ENTRY = MemoryLayout.structLayout(
            JAVA_INT.withName("pc"),
            JAVA_SHORT.withName("rule"),
            JAVA_SHORT.withName("reserved")
    ).withName("mw_unwind_entry");

    /** struct mw_unwind_rule (unwind_rules value): UnwindRule.packed() */
    public static final StructLayout UNWIND_RULE = MemoryLayout.structLayout(
            JAVA_BYTE.withName("kind"),
            JAVA_BYTE.withName("rbp_kind"),
            JAVA_SHORT.withName("rbp_offset"),
            JAVA_INT.withName("cfa_offset")
    ).withName("mw_unwind_rule");

    // ---- bpf/src/luajit.h: the LuaJIT walker's maps ----

    public static final int LUAJIT_FILES_ENTRIES = 256;
    /** mw_mapping.flags bit: the mapping's file is LuaJIT (luajit_files[file_id] exists) */
    public static final int MAPPING_LUAJIT = 0x1;
    public static final int LJ_HDR_BYTES = 128;
    /** LUA frame word 1 when the frame's bytecode index is unknown */
    public static final long LUA_PC_UNKNOWN = 0xffff_ffffL;
    /** LUA_JIT frame word 1: trace number at bit 32 (16 bits; 0 = no trace matched), side-trace flag at bit 48 */
    public static final int LUA_JIT_TRACENO_SHIFT = 32;
    public static final long LUA_JIT_SIDE = 1L << 48;

    /** struct mw_luajit_file (luajit_files value) */
    public static final StructLayout LUAJIT_FILE = MemoryLayout.structLayout(
            JAVA_LONG.withName("interp_start"),
            JAVA_LONG.withName("interp_end"),
            JAVA_INT.withName("g2disp"),
            JAVA_SHORT.withName("interp_cfa"),
            JAVA_BYTE.withName("gc64"),
            JAVA_BYTE.withName("reserved"),
            JAVA_SHORT.withName("cf_l"),
            JAVA_SHORT.withName("cf_pc"),
            JAVA_SHORT.withName("l_glref"),
            JAVA_SHORT.withName("l_base"),
            JAVA_SHORT.withName("l_stack"),
            JAVA_SHORT.withName("l_maxstack"),
            JAVA_SHORT.withName("l_cframe"),
            JAVA_SHORT.withName("reserved2"),
            JAVA_SHORT.withName("g_vmstate"),
            JAVA_SHORT.withName("g_cur_l"),
            JAVA_SHORT.withName("gc_gct"),
            JAVA_SHORT.withName("fn_ffid"),
            JAVA_SHORT.withName("fn_pc"),
            JAVA_SHORT.withName("fn_cf"),
            JAVA_SHORT.withName("pt_size"),
            JAVA_SHORT.withName("pt_sizebc"),
            JAVA_SHORT.withName("pt_sizept"),
            JAVA_SHORT.withName("pt_sizekgc"),
            JAVA_SHORT.withName("pt_sizekn"),
            JAVA_SHORT.withName("pt_numparams"),
            JAVA_SHORT.withName("pt_framesize"),
            JAVA_SHORT.withName("pt_sizeuv"),
            JAVA_SHORT.withName("pt_firstline"),
            JAVA_SHORT.withName("pt_numline"),
            JAVA_SHORT.withName("pt_chunkname"),
            JAVA_SHORT.withName("pt_lineinfo"),
            JAVA_SHORT.withName("g_jit_base"),
            JAVA_SHORT.withName("g_j_trace"),
            JAVA_SHORT.withName("g_j_sizetrace"),
            JAVA_SHORT.withName("t_mcode"),
            JAVA_SHORT.withName("t_szmcode"),
            JAVA_SHORT.withName("t_spadjust"),
            JAVA_SHORT.withName("t_traceno"),
            JAVA_SHORT.withName("t_root"),
            JAVA_SHORT.withName("t_startpt"),
            JAVA_SHORT.withName("t_startpc"),
            JAVA_INT.withName("reserved3"),
            JAVA_INT.withName("reserved4")
    ).withName("mw_luajit_file");

    /** struct mw_walk_state (per-CPU, kernel only; mirrored so the layout test covers it) */
    public static final StructLayout WALK_STATE = MemoryLayout.structLayout(
            JAVA_LONG.withName("rip"),
            JAVA_LONG.withName("rsp"),
            JAVA_LONG.withName("rbp"),
            JAVA_INT.withName("pid"),
            JAVA_INT.withName("words"),
            JAVA_INT.withName("user_frames"),
            JAVA_BYTE.withName("rbp_valid"),
            JAVA_BYTE.withName("return_addr"),
            JAVA_SHORT.withName("reserved")
    ).withName("mw_walk_state");

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
}
