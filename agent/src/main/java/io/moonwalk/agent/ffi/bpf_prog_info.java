package io.moonwalk.agent.ffi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct bpf_prog_info} (linux/bpf.h of 6.1, 232 bytes). BPF_OBJ_GET_INFO_BY_FD copies
 * min(info_len, kernel size), so the layout works with older and newer kernels alike.
 */
public final class bpf_prog_info {
    private bpf_prog_info() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("type"),
            JAVA_INT.withName("id"),
            MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("tag"),
            JAVA_INT.withName("jited_prog_len"),
            JAVA_INT.withName("xlated_prog_len"),
            JAVA_LONG.withName("jited_prog_insns"),
            JAVA_LONG.withName("xlated_prog_insns"),
            JAVA_LONG.withName("load_time"),
            JAVA_INT.withName("created_by_uid"),
            JAVA_INT.withName("nr_map_ids"),
            JAVA_LONG.withName("map_ids"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("name"),
            JAVA_INT.withName("ifindex"),
            JAVA_INT.withName("gpl_compatible"), // gpl_compatible:1 + 31 bits of padding
            JAVA_LONG.withName("netns_dev"),
            JAVA_LONG.withName("netns_ino"),
            JAVA_INT.withName("nr_jited_ksyms"),
            JAVA_INT.withName("nr_jited_func_lens"),
            JAVA_LONG.withName("jited_ksyms"),
            JAVA_LONG.withName("jited_func_lens"),
            JAVA_INT.withName("btf_id"),
            JAVA_INT.withName("func_info_rec_size"),
            JAVA_LONG.withName("func_info"),
            JAVA_INT.withName("nr_func_info"),
            JAVA_INT.withName("nr_line_info"),
            JAVA_LONG.withName("line_info"),
            JAVA_LONG.withName("jited_line_info"),
            JAVA_INT.withName("nr_jited_line_info"),
            JAVA_INT.withName("line_info_rec_size"),
            JAVA_INT.withName("jited_line_info_rec_size"),
            JAVA_INT.withName("nr_prog_tags"),
            JAVA_LONG.withName("prog_tags"),
            JAVA_LONG.withName("run_time_ns"),
            JAVA_LONG.withName("run_cnt"),
            JAVA_LONG.withName("recursion_misses"),
            JAVA_INT.withName("verified_insns"),
            JAVA_INT.withName("attach_btf_obj_id"),
            JAVA_INT.withName("attach_btf_id"),
            MemoryLayout.paddingLayout(4) // __u32 :32
    ).withName("bpf_prog_info");

    public static long sizeof() {
        return LAYOUT.byteSize();
    }

    public static long offsetof(String field) {
        return LAYOUT.byteOffset(groupElement(field));
    }

    public static MemorySegment allocate(Arena arena) {
        return arena.allocate(LAYOUT);
    }

    private static final long ID = offsetof("id");
    private static final long NAME = offsetof("name");
    private static final long RUN_TIME_NS = offsetof("run_time_ns");
    private static final long RUN_CNT = offsetof("run_cnt");
    private static final long VERIFIED_INSNS = offsetof("verified_insns");

    public static int id(MemorySegment s) {
        return s.get(JAVA_INT, ID);
    }

    /** The NUL-terminated program name (at most 15 characters). */
    public static String name(MemorySegment s) {
        return s.asSlice(NAME, 16).getString(0);
    }

    public static long run_time_ns(MemorySegment s) {
        return s.get(JAVA_LONG, RUN_TIME_NS);
    }

    public static long run_cnt(MemorySegment s) {
        return s.get(JAVA_LONG, RUN_CNT);
    }

    /** Instructions the verifier processed at load (5.16+; 0 on older kernels). */
    public static int verified_insns(MemorySegment s) {
        return s.get(JAVA_INT, VERIFIED_INSNS);
    }
}
