/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The LuaJIT walker's hand-over hooks (defined in luajit.bpf.c, which also owns the maps luajit_files and
 * lua_walk). The other units call only these; like the native unit's hooks they are always_inline and
 * inlined into their callers when the units' bitcode is linked.
 */
#ifndef MW_LUAJIT_BPF_H
#define MW_LUAJIT_BPF_H

#include "unwind.h"
#include "walk.bpf.h"

/* Start of a user walk (sampler, event probes): resets st->family's Lua walk and keeps the leaf registers it
 * needs, from ctx when that perf_event context interrupted user code, else from regs (NULL: the task's saved
 * user registers). */
void mw_luajit_hook_sample(struct bpf_perf_event_data *ctx, struct pt_regs *regs, struct mw_walk_state *st);
/* Every native step (MW_INTERP_HOOK): MW_STEP_LUAJIT when pc lies in a LuaJIT interpreter or mcode area. */
int mw_luajit_hook_interp(__u32 family, struct mw_mapping *m, __u64 pc);
/* A leaf PC in no mapping (marker: the pid's PID marker or NULL): MW_STEP_LUAJIT when it is trace code of a
 * GC64 VM the agent has not routed yet. */
int mw_luajit_hook_unrouted_leaf(__u32 family, __u32 pid, struct mw_mapping *marker);

#endif
