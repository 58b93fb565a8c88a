// SPDX-License-Identifier: GPL-2.0
/*
 * The native walker: program mw_walk (tail-call slot MW_PROG_WALK), which follows the agent-installed
 * unwind tables MW_FRAMES_PER_PROG frames per run (the walk itself is unwind_native.h, shared with the
 * host replay build), and the maps it reads: pid_maps, unwind_files, unwind_entries, unwind_rules
 * (docs/native-unwinding.md), plus the per-CPU walk_state. Interpreter frames are handed to the LuaJIT
 * walker through its hooks (luajit.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "moonwalk.h"
#include "record.bpf.h"
#include "tailcall.bpf.h"
#include "native.bpf.h"
#include "luajit.bpf.h"

struct mw_pid_maps_map pid_maps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MW_UNWIND_FILES_ENTRIES);
	__type(key, __u64); /* file id */
	__type(value, struct mw_file_table);
} unwind_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MW_UNWIND_ENTRIES_ENTRIES);
	__type(key, __u32);
	__type(value, struct mw_unwind_entry);
} unwind_entries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MW_UNWIND_RULES_ENTRIES);
	__type(key, __u32);
	__type(value, struct mw_unwind_rule);
} unwind_rules SEC(".maps");

struct mw_walk_state_map walk_state SEC(".maps");

#define MW_INTERP_HOOK(st, m, pc) mw_luajit_hook_interp((st)->family, (m), (pc))
#include "unwind_native.h"

__attribute__((always_inline)) __hidden int mw_native_pid_synced(__u32 pid)
{
	return mw_pid_synced(pid);
}

__attribute__((always_inline)) __hidden int mw_native_pid_luajit(__u32 pid)
{
	struct mw_mapping *marker = mw_find_mapping(pid, 0);

	return marker && marker->kind == MW_MAP_PID_MARKER && (marker->flags & MW_MAPPING_LUAJIT);
}

__attribute__((always_inline)) __hidden int mw_native_drop_marker(__u32 pid)
{
	struct mw_pid_key key;

	key.prefixlen = 96;
	key.pid_be = MW_BE32(pid);
	key.address_be = 0;
	return bpf_map_delete_elem(&pid_maps, &key);
}

/*
 * The native walk, MW_FRAMES_PER_PROG frames per run, re-entered by tail call until it ends. One body for both
 * walk families: `family` picks the per-CPU state, `progs` the family's program array.
 */
static __always_inline int mw_walk_run(void *ctx, struct mw_walker_progs_map *progs, __u32 family)
{
	struct mw_walk_state *st;
	struct mw_sample *s;
	int r;

	s = bpf_map_lookup_elem(&scratch, &family);
	st = bpf_map_lookup_elem(&walk_state, &family);
	if (!s || !st)
		return 0;
	r = mw_walk_frames(st, s->frames);
	/*
	 * a PC in no mapping may be trace code of a LuaJIT VM the agent has not routed yet (a fresh mcode area is
	 * filled top-down and routed at the next sync, up to a second later): the leaf, or the return address of a
	 * C function the trace called (lj_vm_modi, a runtime helper), which keeps the trace's r14 (callee-saved;
	 * a helper that reused it gives a g that does not validate)
	 */
	if (r == MW_ERR_NO_MAPPING && st->user_frames <= 2 && (st->user_frames == 1) != st->return_addr &&
	    mw_luajit_hook_unrouted_leaf(family, st->pid, mw_find_mapping(st->pid, 0)) == MW_STEP_LUAJIT)
		r = MW_STEP_LUAJIT;
	if (r == MW_STEP_CONTINUE) {
		bpf_tail_call(ctx, progs, MW_PROG_WALK);
		/* the kernel's tail-call budget (33) is spent */
		r = MW_ERR_DEPTH_LIMIT;
	} else if (r == MW_STEP_LUAJIT) {
		mw_count(MW_STAT_LUA_SEGMENTS);
		bpf_tail_call(ctx, progs, MW_PROG_LUA_WALK);
		r = MW_ERR_DEPTH_LIMIT;
	}
	mw_finish_walk(s, st, r);
	return 0;
}

SEC("perf_event")
int mw_walk(struct bpf_perf_event_data *ctx)
{
	return mw_walk_run(ctx, &walker_progs, MW_FAMILY_SAMPLER);
}

#ifndef MW_HOST_REPLAY
/* The same walk for the event probes (events.bpf.c), tail-called through event_progs. */
SEC("raw_tp")
int mw_ev_walk(struct bpf_raw_tracepoint_args *ctx)
{
	return mw_walk_run(ctx, &event_progs, MW_FAMILY_EVENTS);
}
#endif
