/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tail-call slots that join the program units (sampler.bpf.c -> native.bpf.c <-> luajit.bpf.c), once per
 * walk family (walk.bpf.h): walker_progs holds the perf_event walkers the sampler enters, event_progs the raw
 * tracepoint copies of the same walkers the event probes enter (events.bpf.c; a program array takes programs of
 * one type only). sampler.bpf.c owns walker_progs and fills it declaratively (libbpf writes the program fds at
 * load); events.bpf.c owns event_progs, which the agent fills after load because its programs are loaded only
 * when an event profile is on (io.moonwalk.agent.bpf.BpfSampler). A new walker takes a new slot here, an entry
 * in the initialiser and one in the agent's list.
 */
#ifndef MW_TAILCALL_BPF_H
#define MW_TAILCALL_BPF_H

enum mw_prog_slot {
	MW_PROG_WALK = 0,     /* mw_walk, native.bpf.c: MW_FRAMES_PER_PROG native frames per run */
	MW_PROG_LUA_WALK = 1, /* mw_lua_walk, luajit.bpf.c: one interpreter or trace frame's Lua frames */
	MW_PROG_SLOTS = 2,
};

struct bpf_raw_tracepoint_args;

int mw_walk(struct bpf_perf_event_data *ctx);
int mw_lua_walk(struct bpf_perf_event_data *ctx);
int mw_ev_walk(struct bpf_raw_tracepoint_args *ctx);
int mw_ev_lua_walk(struct bpf_raw_tracepoint_args *ctx);

struct mw_walker_progs_map {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, MW_PROG_SLOTS);
	/* sizes, not BTF types: the kernel refuses BTF key/value types on program arrays */
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct bpf_perf_event_data *));
};

extern struct mw_walker_progs_map walker_progs SEC(".maps");
/* the same slots for the raw tracepoint walkers (the value type above only types the initialiser) */
extern struct mw_walker_progs_map event_progs SEC(".maps");

#endif
