/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record layouts shared by the BPF programs, the host replay build and the Java agent (mirrored once
 * in io.moonwalk.bpf.layout.RecordLayout; RecordLayoutTest checks every struct against this object's
 * BTF and every constant against a C program compiled from this header).
 *
 * Everything here must stay plain C: the unwinders include it when compiled for the host.
 */
#ifndef MOONWALK_H
#define MOONWALK_H

/* Every ring-buffer record starts with a __u32 event type. */
enum mw_event_type {
	MW_EVENT_SAMPLE = 1,   /* struct mw_sample, variable length */
	MW_EVENT_EXIT = 2,     /* struct mw_exit */
	MW_EVENT_NEW_PID = 3,  /* struct mw_pid_event: first sample of a PID not yet synced */
	MW_EVENT_UNKNOWN_PC = 4,
	MW_EVENT_EXEC = 5,     /* struct mw_pid_event (pc 0): the process replaced its image (execve) */
	/* struct mw_pid_event, pc = the leaf's r14: a leaf PC in no mapping, which may be LuaJIT trace code
	 * of a VM the agent does not know yet (in GC64 traces r14 = DISPATCH = g + G2DISP) */
	MW_EVENT_UNKNOWN_LEAF = 6,
};

/*
 * A frame is one or more __u64 words. The first word:
 *   bits 63..60  kind (enum mw_frame_kind)
 *   bits 59..56  number of extra words that follow (0..15)
 *   bits 55..0   payload
 * NATIVE/KERNEL payload: bits 47..0 the address (kernel addresses are sign-extended back from
 * bit 47), bit 48 set when the address is a return address (symbolize at address - 1).
 * ERROR payload: enum mw_error_reason.
 * LUA: payload = GCproto address; extra word 1 = bytecode index (MW_LUA_PC_UNKNOWN: unknown), extra
 * word 2 = the proto's fingerprint (io.moonwalk.luajit.proto.ProtoFingerprint).
 * LUA_C (a C function or built-in on the Lua stack): payload = GCfunc address; extra word 1 = the
 * C entry point (bits 47..0) | ffid << 48.
 * LUA_JIT (a Lua frame running in a compiled trace, the leaf Lua frame of a JIT segment): payload =
 * GCproto of the function whose frame the trace runs in (g->jit_base); extra word 1 = bytecode index
 * (low 32 bits, the trace's start pc when the trace started in this function, else MW_LUA_PC_UNKNOWN) |
 * trace number << 32 (0: vmstate named no trace holding the PC) | 1 << 48 for a side trace; word 2 =
 * the proto's fingerprint; word 3 = the trace's start GCproto (0 unknown); word 4 = its fingerprint; word 5 =
 * the GCtrace (0: none matched); word 6 = the PC inside the trace's mcode (for a return address, the byte
 * before it): the agent maps (trace, PC) to the snapshot covering it and so to the frames inlined above.
 * The positions and widths are enum mw_frame_bits; io.moonwalk.bpf.layout.RecordLayout mirrors them.
 */
enum mw_frame_kind {
	MW_FRAME_KERNEL = 1,
	MW_FRAME_NATIVE = 2,
	MW_FRAME_LUA = 3,
	MW_FRAME_LUA_JIT = 4,
	MW_FRAME_LUA_C = 5,
	MW_FRAME_ERROR = 15,
};

enum mw_frame_bits {
	MW_FRAME_KIND_SHIFT = 60,      /* first word: kind */
	MW_FRAME_EXTRA_SHIFT = 56,     /* first word: extra words that follow */
	MW_FRAME_EXTRA_BITS = 4,
	MW_FRAME_PAYLOAD_BITS = 56,
	MW_FRAME_ADDR_BITS = 48,       /* an address in a payload or extra word */
	MW_FRAME_RETURN_ADDR_BIT = 48, /* NATIVE payload: the address is a return address */
	MW_LUA_PC_BITS = 32,           /* LUA / LUA_JIT word 1: bytecode index */
	MW_LUA_JIT_TRACENO_SHIFT = 32, /* LUA_JIT word 1: trace number */
	MW_LUA_JIT_TRACENO_BITS = 16,
	MW_LUA_JIT_SIDE_BIT = 48,      /* LUA_JIT word 1: a side trace */
	MW_LUA_C_FFID_SHIFT = 48,      /* LUA_C word 1: the function's ffid, above the C entry point */
	MW_LUA_C_FFID_BITS = 8,
	MW_LUA_JIT_EXTRA_WORDS = 6,    /* LUA_JIT: extra words after the first */
};

#define MW_FRAME_PAYLOAD_MASK ((1ULL << MW_FRAME_PAYLOAD_BITS) - 1)
#define MW_FRAME_ADDR_MASK ((1ULL << MW_FRAME_ADDR_BITS) - 1)
#define MW_FRAME_RETURN_ADDR (1ULL << MW_FRAME_RETURN_ADDR_BIT)
/* LUA / LUA_JIT word 1 when the frame's bytecode index is unknown */
#define MW_LUA_PC_UNKNOWN ((1ULL << MW_LUA_PC_BITS) - 1)
#define MW_LUA_JIT_SIDE (1ULL << MW_LUA_JIT_SIDE_BIT)

enum mw_error_reason {
	MW_ERR_NONE = 0,
	MW_ERR_USER_STACK_FAILED = 1, /* the kernel could not copy a user stack */
	MW_ERR_DEPTH_LIMIT = 2,       /* more frames than fit in a record */
	MW_ERR_NO_MAPPING = 3,
	MW_ERR_NO_UNWIND_INFO = 4,
	MW_ERR_READ_FAULT = 5,
	MW_ERR_KERNEL_STACK_FAILED = 6,
	MW_ERR_PROCESS_NOT_SYNCED = 7,
	MW_ERR_BAD_CFA = 8,           /* the rule gave a CFA at or below the current rsp, or needed a lost rbp */
	MW_ERR_UNSUPPORTED_CFI = 9,   /* CFI exists at the PC but the walker cannot evaluate it */
	MW_ERR_WALKER_UNAVAILABLE = 10, /* the walker program could not be entered (tail call failed) */
	MW_ERR_LUA_NO_VM = 11,        /* an interpreter frame whose lua_State / global_State did not validate */
	MW_ERR_LUA_BAD_FRAME = 12,    /* a Lua frame chain out of bounds, looping, or not a function */
	MW_ERR_LUA_READ_FAULT = 13,   /* the Lua walker could not read the target's memory (a frame being built or torn down) */
};

#define MW_MAX_KERNEL_FRAMES 127
/* user frames of the unwinder; a stack deeper than this ends in MW_ERR_DEPTH_LIMIT */
#define MW_MAX_USER_FRAMES 256
/* user frames of the kernel's frame-pointer walk (processes not yet synced) */
#define MW_MAX_FP_USER_FRAMES 127
#define MW_MAX_FRAME_WORDS 512
#define MW_COMM_LEN 16

/* Sample flags */
#define MW_SAMPLE_KERNEL_MODE 0x1   /* the sample interrupted kernel code */
#define MW_SAMPLE_TRUNCATED 0x2

/* What a sample record stands for (mw_sample.kind) and what its value counts. */
enum mw_sample_kind {
	MW_SAMPLE_KIND_CPU = 0,     /* a cpu-clock sample; value 0 (one period of CPU time) */
	MW_SAMPLE_KIND_OFF_CPU = 1, /* a thread returning from a system call it was blocked in for at least the configured
				* minimum; value = nanoseconds off CPU; kernel frames = the stack it blocked at */
	MW_SAMPLE_KIND_MMAP = 2,    /* an mmap, munmap or mprotect call of a LuaJIT process (rate-limited per process);
				* value = the calls of that process this record stands for (itself and the ones
				* the rate limit passed over since the last record); no kernel frames */
};

/* Per-process counts of the mapping calls of LuaJIT processes (map mmap_counts, key tgid), read by the agent. */
struct mw_mmap_counts {
	__u64 mmap;          /* calls, whether walked or not */
	__u64 munmap;
	__u64 mprotect;
	__u64 last_ns;       /* ktime of the last record sent */
	__u64 pending;       /* calls since then, carried by the next record */
	__u64 limited;       /* calls the rate limit did not walk */
};

struct mw_sample {
	__u32 type;          /* MW_EVENT_SAMPLE */
	__u32 pid;           /* tgid */
	__u32 tid;
	__u32 cpu;
	__u64 ktime_ns;      /* bpf_ktime_get_ns */
	char comm[MW_COMM_LEN]; /* thread name */
	__u16 frame_words;   /* used entries of frames[] */
	__u16 kernel_frames; /* leading frames that are kernel frames */
	__u32 flags;         /* MW_SAMPLE_* */
	__u64 vm;            /* LuaJIT global_State of the sample, 0 if none */
	__u32 vmstate;       /* LuaJIT g->vmstate, raw */
	__u32 kind;          /* enum mw_sample_kind */
	__u64 value;         /* the kind's value (off-CPU: nanoseconds blocked) */
	__u64 frames[MW_MAX_FRAME_WORDS]; /* leaf first */
};

struct mw_exit {
	__u32 type;          /* MW_EVENT_EXIT */
	__u32 pid;
	__u64 ktime_ns;
};

struct mw_pid_event {
	__u32 type;          /* MW_EVENT_NEW_PID / MW_EVENT_UNKNOWN_PC / MW_EVENT_EXEC */
	__u32 pid;
	__u64 pc;
};

/* Configuration written by the agent into the single-entry config array map before attach. */
struct mw_config {
	__u32 agent_pid;     /* samples of this tgid are skipped */
	__u32 filter_pids;   /* 1: only tgids present in the pid_filter map are sampled */
	__u32 user_stacks;   /* 1: collect user stacks */
	__u32 reserved;
	/* The agent's pid namespace (st_dev, st_ino of /proc/self/ns/pid) when it is not the initial
	 * one, else 0: pids are then reported as that namespace numbers them (see mw_current_ids). */
	__u64 pidns_dev;
	__u64 pidns_ino;
	/* off-CPU profile (events.bpf.c, loaded only when on): blocks shorter than this are not recorded */
	__u64 off_cpu_min_ns;
	/* mmap event profile (events.bpf.c, loaded only when on): at most one walked record per process per interval */
	__u64 mmap_interval_ns;
};

/* Counters kept per CPU in the stats map, indexed by enum mw_stat. */
enum mw_stat {
	MW_STAT_SAMPLES = 0,
	MW_STAT_SKIPPED_IDLE = 1,
	MW_STAT_SKIPPED_FILTER = 2,
	MW_STAT_RINGBUF_FULL = 3,
	MW_STAT_KERNEL_STACK_ERR = 4,
	MW_STAT_USER_STACK_ERR = 5,
	MW_STAT_EXITS = 6,
	MW_STAT_NOT_SYNCED = 7,      /* samples of processes whose maps were not installed yet */
	MW_STAT_PID_EVENTS = 8,      /* NEW_PID / UNKNOWN_PC events sent */
	MW_STAT_PID_EVENTS_LIMITED = 9, /* ... suppressed by the rate limit */
	MW_STAT_WALKER_FAILED = 10,  /* tail call into the walker failed */
	MW_STAT_UNWIND_ERRORS = 11,  /* user stacks that ended in an error frame (walker only) */
	MW_STAT_UNWIND_COMPLETE = 12, /* user stacks the walker followed to the end */
	MW_STAT_LUA_SEGMENTS = 13,   /* interpreter frames the Lua walker entered */
	MW_STAT_LUA_ERRORS = 14,     /* ... that ended in a Lua error frame */
	MW_STAT_EXECS = 15,          /* execs of processes the walker had maps for (marker dropped) */
	MW_STAT_JIT_SEGMENTS = 16,   /* mcode-area PCs the Lua walker entered */
	MW_STAT_JIT_UNMATCHED = 17,  /* ... where g->vmstate named no trace whose mcode holds the PC */
	MW_STAT_JIT_CFA_DISAGREE = 18, /* ... matched, but rsp + spadjust + 96 != the VM's cframe + 80 */
	MW_STAT_OFF_CPU_WAITS = 19,   /* blocks of selected threads that began (sleeping switch-outs in a system call) */
	MW_STAT_OFF_CPU_SHORT = 20,   /* ... that ended shorter than off_cpu_min_ns: not recorded */
	MW_STAT_OFF_CPU_LOST = 21,    /* ... lost: the wait table was full, or the system call's exit did not match */
	MW_STAT_OFF_CPU_SAMPLES = 22, /* off-CPU records sent */
	MW_STAT_MMAP_CALLS = 23,      /* mmap/munmap/mprotect calls of LuaJIT processes seen */
	MW_STAT_MMAP_SAMPLES = 24,    /* ... records sent (the rest is carried in their values) */
	MW_STAT_MMAP_LOST = 25,       /* ... calls not counted: the per-process table was full */
	MW_STAT_MAX = 26,
};

#endif
