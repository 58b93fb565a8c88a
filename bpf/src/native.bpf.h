/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The native walker's maps (defined in native.bpf.c, filled by io.moonwalk.unwinder.sync.ProcessMapSync;
 * docs/native-unwinding.md) and the hooks other units call into it with. The hooks are always_inline:
 * the build links the units' bitcode before optimising, so they are inlined into their callers.
 */
#ifndef MW_NATIVE_BPF_H
#define MW_NATIVE_BPF_H

#include "unwind.h"
#include "walk.bpf.h"

struct mw_pid_maps_map {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MW_PID_MAPS_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* LPM tries require it */
	__type(key, struct mw_pid_key);
	__type(value, struct mw_mapping);
};

/* Registers and position of the walk, carried from one tail call to the next. */
struct mw_walk_state_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MW_FAMILIES);
	__type(key, __u32);
	__type(value, struct mw_walk_state);
};

extern struct mw_walk_state_map walk_state SEC(".maps");

/* Whether the agent has installed pid's mappings (its PID marker is in pid_maps). */
int mw_native_pid_synced(__u32 pid);
/* Whether pid's maps are installed and its PID marker says it runs LuaJIT. */
int mw_native_pid_luajit(__u32 pid);
/* Drops pid's marker after an exec; 0 when there was one. */
int mw_native_drop_marker(__u32 pid);

#endif
