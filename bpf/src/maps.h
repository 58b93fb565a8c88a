/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maps shared by the moonwalk BPF programs. The agent finds them by these names
 * (io.moonwalk.agent.bpf.BpfSampler), so a rename here is a rename there.
 */
#ifndef MW_MAPS_H
#define MW_MAPS_H

#include "moonwalk.h"
#include "unwind.h"
#include "luajit.h"

/* Up to this many tgids can be selected with a PID filter; the agent reports E2BIG beyond it. */
#define MW_PID_FILTER_ENTRIES 4096

/* Default ring buffer size; the agent overrides it with bpf_map__set_max_entries before load. */
#define MW_RINGBUF_DEFAULT_BYTES (4 * 1024 * 1024)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mw_config);
} config_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MW_PID_FILTER_ENTRIES);
	__type(key, __u32);   /* tgid */
	__type(value, __u8);  /* presence only */
} pid_filter SEC(".maps");

/* The record is built here, not on the 512-byte BPF stack, and then copied into the ring buffer
 * with its exact length (bpf_ringbuf_reserve needs a constant size, which would waste ~4 KiB of
 * ring per sample for typical 20-40 frame stacks). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mw_sample);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MW_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MW_RINGBUF_DEFAULT_BYTES);
} events SEC(".maps");

/* ---- native unwinder (docs/native-unwinding.md); filled by io.moonwalk.agent.maps.ProcessMapSync ---- */

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MW_PID_MAPS_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* LPM tries require it */
	__type(key, struct mw_pid_key);
	__type(value, struct mw_mapping);
} pid_maps SEC(".maps");

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

/* Rate limit of NEW_PID / UNKNOWN_PC events: (pid | type << 32) -> ktime of the last one sent. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MW_PID_EVENTS_ENTRIES);
	__type(key, __u64);
	__type(value, __u64);
} pid_events SEC(".maps");

/* Registers and position of the walk, carried from one tail call to the next. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mw_walk_state);
} walk_state SEC(".maps");

/* ---- LuaJIT walker (docs/luajit-walk.md); filled by io.moonwalk.agent.luajit.LuajitFiles ---- */

/* file id (as in mw_mapping.file_id) -> the LuaJIT binary's interpreter range and offsets */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MW_LUAJIT_FILES_ENTRIES);
	__type(key, __u64);
	__type(value, struct mw_luajit_file);
} luajit_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mw_lua_walk);
} lua_walk SEC(".maps");

static __always_inline void mw_count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &stat);

	/* per-CPU slot, and the kernel's bpf_prog_active guard keeps the perf_event and tracepoint
	 * programs from nesting on one CPU: a plain add is enough */
	if (v)
		*v += 1;
}

static __always_inline struct mw_config *mw_get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config_map, &zero);
}

#endif
