/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What selects the sampled processes: the agent's configuration and the PID filter, owned by
 * sampler.bpf.c and read by the scheduler probes too (sched.bpf.c). The agent writes both before
 * attaching (io.moonwalk.agent.bpf.BpfSampler; struct mw_config is in moonwalk.h).
 */
#ifndef MW_SAMPLER_BPF_H
#define MW_SAMPLER_BPF_H

#include "moonwalk.h"
#include "walk.bpf.h"
#include "tailcall.bpf.h"

/* Up to this many tgids can be selected with a PID filter; the agent reports E2BIG beyond it. */
#define MW_PID_FILTER_ENTRIES 4096

struct mw_config_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mw_config);
};

struct mw_pid_filter_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MW_PID_FILTER_ENTRIES);
	__type(key, __u32);   /* tgid */
	__type(value, __u8);  /* presence only */
};

extern struct mw_config_map config_map SEC(".maps");
extern struct mw_pid_filter_map pid_filter SEC(".maps");

static __always_inline struct mw_config *mw_get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config_map, &zero);
}

/*
 * The current task's (tgid << 32 | tid) as the agent names processes. An agent inside a pid
 * namespace (the Debian package in a system container: systemd-nspawn, LXC, podman --systemd)
 * reads /proc of that namespace, so the kernel must report the namespace's numbers; a task
 * whose pid namespace is another one gives 0 and is skipped (the helper matches the task's own
 * namespace only, so processes in namespaces nested below the agent's are not profiled).
 */
static __always_inline __u64 mw_current_ids(const struct mw_config *cfg)
{
	struct bpf_pidns_info ns;

	if (!cfg->pidns_ino)
		return bpf_get_current_pid_tgid();
	if (bpf_get_ns_current_pid_tgid(cfg->pidns_dev, cfg->pidns_ino, &ns, sizeof(ns)))
		return 0;
	return ((__u64)ns.tgid << 32) | ns.pid;
}

/* Walks the user part of a record and emits it (sampler.bpf.c; the sampler and the event probes call it). */
int mw_start_user_walk(void *ctx, struct mw_walker_progs_map *progs, struct bpf_perf_event_data *pctx,
			struct pt_regs *regs, struct mw_walk_state *st);

#endif
