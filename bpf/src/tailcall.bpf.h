/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tail-call slots that join the program families (sampler.bpf.c -> native.bpf.c <-> luajit.bpf.c).
 * Each unit includes this header; sampler.bpf.c owns walker_progs and fills it declaratively (libbpf
 * writes the program fds at load). A new walker takes a new slot here and an entry in that initialiser.
 */
#ifndef MW_TAILCALL_BPF_H
#define MW_TAILCALL_BPF_H

enum mw_prog_slot {
	MW_PROG_WALK = 0,     /* mw_walk, native.bpf.c: MW_FRAMES_PER_PROG native frames per run */
	MW_PROG_LUA_WALK = 1, /* mw_lua_walk, luajit.bpf.c: one interpreter or trace frame's Lua frames */
	MW_PROG_SLOTS = 2,
};

int mw_walk(struct bpf_perf_event_data *ctx);
int mw_lua_walk(struct bpf_perf_event_data *ctx);

struct mw_walker_progs_map {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, MW_PROG_SLOTS);
	/* sizes, not BTF types: the kernel refuses BTF key/value types on program arrays */
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct bpf_perf_event_data *));
};

extern struct mw_walker_progs_map walker_progs SEC(".maps");

#endif
