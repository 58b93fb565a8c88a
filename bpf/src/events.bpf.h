/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The event probes' map other units touch (events.bpf.c owns it): the scheduler's exit probe drops a process's
 * mmap counts (sched.bpf.c).
 */
#ifndef MW_EVENTS_BPF_H
#define MW_EVENTS_BPF_H

#include "moonwalk.h"

/* LuaJIT processes whose mapping calls are counted at once; a process beyond it is counted in MW_STAT_MMAP_LOST. */
#define MW_MMAP_PROCESSES 4096

struct mw_mmap_counts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MW_MMAP_PROCESSES);
	__type(key, __u32); /* tgid, as the agent numbers processes */
	__type(value, struct mw_mmap_counts);
};

extern struct mw_mmap_counts_map mmap_counts SEC(".maps");

#endif
