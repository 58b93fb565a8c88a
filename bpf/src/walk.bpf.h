/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-only scratch of the stack walkers: the per-CPU walk state carried from one tail call to the
 * next, and the step results the walkers hand each other. Nothing here is read or written by the agent
 * (so none of it is mirrored in Java); it stays plain C because the host replay build runs the same
 * walkers (unwind_native.h, unwind_luajit.h) against a core file.
 */
#ifndef MW_WALK_BPF_H
#define MW_WALK_BPF_H

#include "moonwalk.h"
#include "unwind.h"
#include "luajit.h"

/* Binary search iterations: enough for one file filling all of unwind_entries (2^22 entries). */
#define MW_BSEARCH_STEPS 23

/* Frames walked per program before the walker tail-calls itself; the verifier's cost grows with it. */
#define MW_FRAMES_PER_PROG 16

/* At most one NEW_PID / UNKNOWN_PC event per (pid, kind) in this interval. */
#define MW_PID_EVENT_INTERVAL_NS 250000000ULL

/* The frame-pointer fallback trusts rbp only this far above rsp (a frame larger than this is not believed). */
#define MW_FP_MAX_FRAME_BYTES (8u << 20)

/* Key of pid_events: pid | (event type << 32). Value: ktime of the last event sent. */
#define MW_PID_EVENT_TYPE_SHIFT 32

/*
 * The walks that may be under way on one CPU at once, each with its own slot of the per-CPU state maps (scratch,
 * walk_state, lua_walk): the sampler's perf_event programs (an NMI or timer interrupt) can interrupt a raw
 * tracepoint program's walk (events.bpf.c) half-way, and the kernel guards only perf_event and kprobe programs
 * against each other, not raw tracepoints.
 */
enum mw_walk_family {
	MW_FAMILY_SAMPLER = 0, /* mw_sample -> walker_progs */
	MW_FAMILY_EVENTS = 1,  /* the off-CPU and syscall probes -> event_progs */
	MW_FAMILIES = 2,
};

/* Step results besides an enum mw_error_reason (> 0) */
#define MW_STEP_CONTINUE 0
#define MW_STEP_END (-1)
/* hand-over: the PC is in a LuaJIT interpreter or mcode area; lua_walk.lj holds the file's data */
#define MW_STEP_LUAJIT (-2)

/* Registers and position of the native walk, in a per-CPU array. */
struct mw_walk_state {
	__u64 rip;
	__u64 rsp;
	__u64 rbp;
	__u32 pid;
	__u32 words;        /* next free index of mw_sample.frames */
	__u32 user_frames;  /* user frames emitted so far */
	__u8 rbp_valid;     /* 0 once a rule said rbp cannot be recovered */
	__u8 return_addr;   /* rip is a return address (look up rip - 1) */
	__u8 family;        /* enum mw_walk_family: which slot of the per-CPU state maps this walk uses */
	__u8 reserved;
	/* the unwind_files value of the last frame's file (consecutive frames are mostly in one file):
	 * saves a hash lookup per frame; ft_id 0 = none cached */
	__u64 ft_id;
	__u64 ft_base;
	__u32 ft_first;
	__u32 ft_count;
	/* [map_lo, map_hi): the addresses the cached file's unwind table covers, all inside that one file's
	 * mapping (the loader reserves a file's whole span), so a frame there needs no pid_maps lookup;
	 * map_hi 0 = none. map_bias and map_flags are that mapping's. */
	__u64 map_lo, map_hi, map_bias;
	__u32 map_flags;
	__u32 reserved2;
};

/* Lua walk state of the current sample (per CPU), carried across tail calls. */
struct mw_lua_walk {
	/* user registers of the sample's leaf */
	__u64 leaf_rip, leaf_rsp, rdx, rbx, r14;
	__u64 cframe;   /* rsp of the interpreter frame being walked; 0: not entered yet */
	__u64 L;        /* lua_State whose frames are being (or were last) walked */
	__u64 f;        /* next frame link slot of L, or MW_LUA_F_NONE / MW_LUA_F_DONE */
	__u64 pc;       /* PC (BCIns *) the frame at f runs at, 0 unknown */
	__u64 stack, maxstack; /* L->stack, L->maxstack */
	__u64 link_fix; /* the leaf frame's link while the interpreter is between setting BASE and writing it */
	__u32 frames;   /* Lua frames emitted in this sample */
	__u32 errors;
	/* set by the hook when the PC is in an mcode area (pid_maps kind MW_MAP_LUAJIT_MCODE) */
	__u64 jit_g;        /* the area's VM (from the LPM value); 0: interpreter frame */
	__u64 jit_startpt;  /* GCproto the matched trace started in, 0 unknown */
	__u64 jit_start_fp; /* its fingerprint */
	__u64 jit_startpc;  /* BCIns * the trace starts at */
	__u64 jit_trace;    /* the matched GCtrace, 0 none */
	__u64 jit_pc;       /* the PC in its mcode (the byte before a return address) */
	__u32 jit_leaf;     /* the next emitted Lua frame is the trace's frame: traceno | side << 16 | 1 << 31 */
	__u32 jit_boot;     /* unrouted PC (MW_LJ_BOOT_*): accept only a matching trace */
	struct mw_luajit_file lj;
	__u8 hdr[MW_LJ_HDR_BYTES];
};

#endif
