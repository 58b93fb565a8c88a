// SPDX-License-Identifier: GPL-2.0
/*
 * The scheduler probes: tracepoints that report whole-process exits (the agent drops the process's
 * maps and state) and execs (the PID marker is dropped so that the walker never applies the old
 * image's tables to the new one). They use the sampler's configuration and PID filter
 * (sampler.bpf.h) and the native walker's marker hook (native.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "moonwalk.h"
#include "record.bpf.h"
#include "sampler.bpf.h"
#include "native.bpf.h"
#include "events.bpf.h"

/*
 * A real subprogram rather than inline code: its prototype keeps struct mw_exit in the object's
 * BTF, which is what the agent's record-layout test checks the Java mirror against.
 */
static __noinline int mw_emit_exit(struct mw_exit *e)
{
	mw_count(MW_STAT_EXITS);
	if (bpf_ringbuf_output(&events, e, sizeof(*e), BPF_RB_NO_WAKEUP))
		mw_count(MW_STAT_RINGBUF_FULL);
	return 0;
}

/*
 * sched_process_exit fires once per exiting thread, in do_exit() after the thread has done
 * atomic_dec_and_test(&signal->live). Reading signal->live == 0 therefore means no live thread is
 * left in the thread group: the process is gone (this holds on 5.10 through 6.x; the group_dead
 * tracepoint argument only exists on newer kernels). Checking "is the group leader" instead would
 * be wrong: a leader may pthread_exit() while other threads keep running. Two threads exiting at
 * the same moment may both read 0 and report the exit twice; the agent treats exits as
 * idempotent. A thread that execs kills its siblings but stays live itself, so exec is no exit.
 */
SEC("tracepoint/sched/sched_process_exit")
int mw_process_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid;
	struct mw_config *cfg;
	struct mw_exit e = {};

	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	cfg = mw_get_config();
	if (!cfg)
		return 0;
	tgid = mw_current_ids(cfg) >> 32;
	if (tgid == 0)
		return 0;
	/* the mmap event probe's counts of the process (a no-op when it had none or the probe is off) */
	bpf_map_delete_elem(&mmap_counts, &tgid);
	if (cfg->filter_pids) {
		if (!bpf_map_lookup_elem(&pid_filter, &tgid))
			return 0;
		/* a recycled PID must not inherit the selection */
		bpf_map_delete_elem(&pid_filter, &tgid);
	}

	e.type = MW_EVENT_EXIT;
	e.pid = tgid;
	e.ktime_ns = bpf_ktime_get_ns();
	return mw_emit_exit(&e);
}

/*
 * An exec replaces the whole address space but keeps the PID, so the maps installed for the old
 * image would be applied to the new one: wrong unwind rules and, through the symbolizer's view of
 * the process, wrong names. sched_process_exec fires in the exec'ing task after the new image is
 * mapped (other threads are already gone: de_thread). Deleting the PID marker makes the walker
 * treat the process as unsynced from the very next sample (frame-pointer stack + "not synced",
 * never the old tables) and ask for a sync; the event tells the agent to re-sync at once and to
 * start naming this PID's frames with the new image. The old prefixes stay until the agent's diff
 * removes them: without the marker the walker never reads them.
 */
SEC("tracepoint/sched/sched_process_exec")
int mw_process_exec(void *ctx)
{
	__u32 tgid;
	struct mw_pid_event e = {};
	__u64 limit_key;
	struct mw_config *cfg;

	cfg = mw_get_config();
	if (!cfg)
		return 0;
	tgid = mw_current_ids(cfg) >> 32;
	if (tgid == 0 || tgid == cfg->agent_pid)
		return 0;
	/* a process the agent never synced has nothing stale: its first sample asks for a sync anyway */
	if (mw_native_drop_marker(tgid))
		return 0;
	mw_count(MW_STAT_EXECS);
	/* the next sample's NEW_PID request must not be held back by one sent before the exec */
	limit_key = tgid | ((__u64)MW_EVENT_NEW_PID << MW_PID_EVENT_TYPE_SHIFT);
	bpf_map_delete_elem(&pid_events, &limit_key);
	e.type = MW_EVENT_EXEC;
	e.pid = tgid;
	e.pc = 0;
	return mw_emit_pid_event(&e);
}

