// SPDX-License-Identifier: GPL-2.0
/*
 * The LuaJIT walker: program mw_lua_walk (tail-call slot MW_PROG_LUA_WALK), which replaces an interpreter
 * frame or a trace's frame with its Lua frames (the walk itself is unwind_luajit.h, shared with the host
 * replay build; docs/luajit-walk.md), the maps it owns (luajit_files, filled by
 * io.moonwalk.luajit.sync.LuajitFiles, and the per-CPU lua_walk), and the hand-over hooks the sampler and
 * the native walker call (luajit.bpf.h).
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

/* file id (as in mw_mapping.file_id) -> the LuaJIT binary's interpreter range and offsets */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MW_LUAJIT_FILES_ENTRIES);
	__type(key, __u64);
	__type(value, struct mw_luajit_file);
} luajit_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MW_FAMILIES);
	__type(key, __u32);
	__type(value, struct mw_lua_walk);
} lua_walk SEC(".maps");

#include "unwind_luajit.h"

/*
 * Resets the Lua walk state of st's family and keeps the leaf registers the interpreter walk needs (BASE, PC,
 * DISPATCH): from ctx's interrupted registers when ctx (a perf_event context) interrupted user code, else the
 * ones the kernel saved at the task's last entry from user space (regs; NULL: read them here).
 */
__attribute__((always_inline)) __hidden void mw_luajit_hook_sample(struct bpf_perf_event_data *ctx,
								    struct pt_regs *regs, struct mw_walk_state *st)
{
	struct mw_lua_walk *lw;
	__u32 family = st->family;

	lw = bpf_map_lookup_elem(&lua_walk, &family);
	if (!lw)
		return;
	lw->leaf_rip = st->rip;
	lw->leaf_rsp = st->rsp;
	lw->cframe = 0;
	lw->L = 0;
	lw->f = MW_LUA_F_NONE;
	lw->pc = 0;
	lw->frames = 0;
	lw->link_fix = 0;
	lw->errors = 0;
	if (ctx && !mw_interrupted_kernel(ctx)) {
		lw->rdx = ctx->regs.dx;
		lw->rbx = ctx->regs.bx;
		lw->r14 = ctx->regs.r14;
		return;
	}
	if (!regs)
		regs = mw_saved_user_regs();
	if (!regs)
		return;
	lw->rdx = BPF_CORE_READ(regs, dx);
	lw->rbx = BPF_CORE_READ(regs, bx);
	lw->r14 = BPF_CORE_READ(regs, r14);
}

__attribute__((always_inline)) __hidden int mw_luajit_hook_interp(__u32 family, struct mw_mapping *m, __u64 pc)
{
	return mw_luajit_interp_hook(family, m, pc);
}

/*
 * A leaf PC in no mapping of a LuaJIT process (its PID marker carries the LuaJIT file): maybe trace code of an
 * area not routed yet. The agent is asked to find the VM (UNKNOWN_LEAF, validated there). Meanwhile, in GC64
 * trace code r14 is DISPATCH, so g = r14 - G2DISP; in non-GC64 trace code no register holds the VM and
 * mw_lua_enter_jit finds it from the interpreter frame the trace runs on (mw_lj_jit_g_from_stack). Either way the
 * sample is accepted only if g validates and g->vmstate's trace holds the PC (lw->jit_boot), so other JIT code
 * (PCRE) never passes.
 */
__attribute__((always_inline)) __hidden int mw_luajit_hook_unrouted_leaf(__u32 family, __u32 pid,
									  struct mw_mapping *marker)
{
	struct mw_luajit_file *lj;
	struct mw_lua_walk *lw;
	__u64 file_id;

	lw = bpf_map_lookup_elem(&lua_walk, &family);
	if (!lw)
		return MW_STEP_CONTINUE;
	mw_pid_event(MW_EVENT_UNKNOWN_LEAF, pid, lw->r14);
	if (!marker || marker->kind != MW_MAP_PID_MARKER || !(marker->flags & MW_MAPPING_LUAJIT))
		return MW_STEP_CONTINUE;
	file_id = marker->file_id;
	lj = MW_LOOKUP(&luajit_files, &file_id);
	if (!lj || (lj->gc64 && lw->r14 <= lj->g2disp))
		return MW_STEP_CONTINUE;
	lw->lj = *lj;
	lw->cframe = 0;
	if (lj->gc64) {
		lw->jit_g = lw->r14 - lj->g2disp;
		lw->jit_boot = MW_LJ_BOOT_R14;
	} else {
		/* non-GC64 trace code keeps no register on the VM: mw_lua_enter_jit finds it on the stack */
		lw->jit_g = 0;
		lw->jit_boot = MW_LJ_BOOT_STACK;
	}
	return MW_STEP_LUAJIT;
}

/*
 * The LuaJIT interpreter walk (unwind_luajit.h): one interpreter frame's Lua frames, then back to the native
 * walk. One body for both families: `family` picks the per-CPU state, `progs` the program array the family's
 * programs tail-call through (constant in each program once inlined, as the verifier requires).
 */
static __always_inline int mw_lua_walk_run(void *ctx, struct mw_walker_progs_map *progs, __u32 family)
{
	struct mw_walk_state *st;
	struct mw_lua_walk *lw;
	struct mw_sample *s;
	int r;

	s = bpf_map_lookup_elem(&scratch, &family);
	st = bpf_map_lookup_elem(&walk_state, &family);
	lw = bpf_map_lookup_elem(&lua_walk, &family);
	if (!s || !st || !lw)
		return 0;
	r = mw_lua_segment(st, lw, s);
	if (r == MW_LUA_MORE)
		bpf_tail_call(ctx, progs, MW_PROG_LUA_WALK);
	else if (r == MW_LUA_NATIVE)
		bpf_tail_call(ctx, progs, MW_PROG_WALK);
	if (r == MW_LUA_MORE || r == MW_LUA_NATIVE)
		r = MW_ERR_DEPTH_LIMIT;
	if (r > 0 && r != MW_ERR_DEPTH_LIMIT)
		mw_count(MW_STAT_LUA_ERRORS);
	mw_finish_walk(s, st, r);
	return 0;
}

SEC("perf_event")
int mw_lua_walk(struct bpf_perf_event_data *ctx)
{
	return mw_lua_walk_run(ctx, &walker_progs, MW_FAMILY_SAMPLER);
}

#ifndef MW_HOST_REPLAY
/* The same walk for the event probes (events.bpf.c), tail-called through event_progs. */
SEC("raw_tp")
int mw_ev_lua_walk(struct bpf_raw_tracepoint_args *ctx)
{
	return mw_lua_walk_run(ctx, &event_progs, MW_FAMILY_EVENTS);
}
#endif
