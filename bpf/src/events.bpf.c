// SPDX-License-Identifier: GPL-2.0
/*
 * The event probes: raw tracepoints whose records carry a value other than one period of CPU time, with the same
 * mixed native + Lua stacks as the sampler's (the raw tracepoint copies of the walkers, through event_progs, in walk
 * family MW_FAMILY_EVENTS). The agent loads and attaches them only when such a profile is asked for
 * (io.moonwalk.agent.bpf.BpfSampler); otherwise none of them is in the kernel.
 *
 * Off-CPU (`--off-cpu`): how long a selected thread was blocked in a system call, and where.
 *  - sched_switch: a selected thread that goes to sleep (switched out while not runnable, not preempted) gets an
 *    entry in off_cpu_waits, keyed by its kernel tid, with the user registers its system call was entered with;
 *    when it is switched back in, the time it was off CPU is added to the entry, and once the entry is long enough
 *    to be kept, the kernel stack it slept in (the thread's, still frozen at the sleep). Further sleeps in the same
 *    system call add to the same entry.
 *  - sys_exit: a thread with an entry returns to user space. A wait of at least config.off_cpu_min_ns becomes a
 *    record of kind MW_SAMPLE_KIND_OFF_CPU: value = the nanoseconds off CPU, kernel frames = where it slept, user frames
 *    walked now (the user registers and stack are still the ones the system call was entered with).
 * Walking at the exit rather than at the switch costs a walk only for the waits that are kept; a switch of a
 * selected thread costs a hash update, every other switch one lookup.
 *
 * mmap events (`--mmap-events`): the mapping calls of LuaJIT processes (mmap, munmap, mprotect: how LuaJIT gets and
 * protects trace machine code, and what a compile storm multiplies). sys_enter counts every such call of a process
 * whose PID marker says LuaJIT in mmap_counts, and at most once per config.mmap_interval_ns per process walks the
 * calling stack into a record of kind MW_SAMPLE_KIND_MMAP whose value is the calls since the last record: the
 * profile's values sum to the calls made, while the walks stay bounded however fast the process maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "moonwalk.h"
#include "record.bpf.h"
#include "sampler.bpf.h"
#include "tailcall.bpf.h"
#include "native.bpf.h"
#include "events.bpf.h"

/* The raw tracepoint walkers' slots (tailcall.bpf.h); filled by the agent after load. */
struct mw_walker_progs_map event_progs SEC(".maps");

/* Kernel frames kept per wait: the scheduler's own frames plus the system call's path. */
#define MW_OFF_CPU_KERNEL_FRAMES 48
/* Threads that can be in a wait at once; the agent shrinks the map to one entry when off-CPU is off. */
#define MW_OFF_CPU_WAITS 8192

struct mw_off_cpu_wait {
	__u64 off_ns;           /* when it last went off CPU; 0 while on CPU */
	__u64 blocked_ns;       /* time off CPU, summed over the system call's sleeps */
	__u64 user_ip, user_sp; /* the user registers of the system call it sleeps in */
	__u32 tgid;             /* the process, as the agent numbers it */
	__u32 tid;
	__u32 kernel_words;
	__u32 reserved;
	__u64 kernel[MW_OFF_CPU_KERNEL_FRAMES];
};

/* LRU: a thread that dies asleep (killed, exit in a system call) never reaches sys_exit; its entry ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MW_OFF_CPU_WAITS);
	__type(key, __u32); /* kernel tid */
	__type(value, struct mw_off_cpu_wait);
} off_cpu_waits SEC(".maps");

/* A new wait is built here (it is too large for the BPF stack); sched_switch runs with preemption off. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mw_off_cpu_wait);
} off_cpu_new SEC(".maps");

/* x86_64 system call numbers */
#define MW_NR_MMAP 9
#define MW_NR_MPROTECT 10
#define MW_NR_MUNMAP 11

/* deleted by the exit probe (sched.bpf.c) */
struct mw_mmap_counts_map mmap_counts SEC(".maps");

/* task_struct before 5.14, when the run state was `state` */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* 0 (TASK_RUNNING) for a task switched out while runnable (preempted or yielding), else a sleep state. */
static __always_inline long mw_task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/*
 * The user part of an event record whose first `words` words are kernel frames, from the system call's saved user
 * registers regs; the walkers send it (or here, for a task without user memory or with user stacks off).
 */
static __always_inline int mw_event_user_walk(void *ctx, struct mw_config *cfg, struct pt_regs *regs,
					      struct mw_sample *s, struct mw_walk_state *st, __u32 words, __u32 tgid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (!cfg->user_stacks || !BPF_CORE_READ(task, mm)) {
		mw_emit_sample(s, words);
		return 0;
	}
	st->rip = BPF_CORE_READ(regs, ip);
	st->rsp = BPF_CORE_READ(regs, sp);
	st->rbp = BPF_CORE_READ(regs, bp);
	st->family = MW_FAMILY_EVENTS;
	st->pid = tgid;
	st->words = words;
	mw_start_user_walk(ctx, &event_progs, NULL, regs, st);
	return 0;
}

/* Whether the current process is one the profile is for: the PID filter's, or any synced one for the whole host. */
static __always_inline int mw_off_cpu_selected(struct mw_config *cfg, __u32 tgid)
{
	if (tgid == 0 || tgid == cfg->agent_pid)
		return 0;
	if (cfg->filter_pids)
		return bpf_map_lookup_elem(&pid_filter, &tgid) != NULL;
	return mw_native_pid_synced(tgid);
}

/* The current task goes to sleep: open its wait or go on with the one of the same system call. */
static __always_inline void mw_off_cpu_sleep(__u64 now)
{
	__u32 ktid = (__u32)bpf_get_current_pid_tgid();
	struct mw_off_cpu_wait *w;
	struct mw_config *cfg;
	struct pt_regs *regs;
	__u64 ids, ip, sp;
	__u32 zero = 0;

	if (ktid == 0)
		return;
	cfg = mw_get_config();
	if (!cfg)
		return;
	ids = mw_current_ids(cfg);
	if (!mw_off_cpu_selected(cfg, ids >> 32))
		return;
	regs = mw_saved_user_regs();
	if (!regs)
		return;
	ip = BPF_CORE_READ(regs, ip);
	sp = BPF_CORE_READ(regs, sp);
	w = bpf_map_lookup_elem(&off_cpu_waits, &ktid);
	if (w && w->user_ip == ip && w->user_sp == sp) {
		w->off_ns = now;
		return;
	}
	/* a first sleep, or one left from a wait that never reached sys_exit (a page fault's): a new wait */
	w = bpf_map_lookup_elem(&off_cpu_new, &zero);
	if (!w)
		return;
	w->off_ns = now;
	w->blocked_ns = 0;
	w->user_ip = ip;
	w->user_sp = sp;
	w->tgid = ids >> 32;
	w->tid = (__u32)ids;
	w->kernel_words = 0;
	w->reserved = 0;
	mw_count(MW_STAT_OFF_CPU_WAITS);
	if (bpf_map_update_elem(&off_cpu_waits, &ktid, w, BPF_ANY))
		mw_count(MW_STAT_OFF_CPU_LOST);
}

/*
 * BTF-typed (tp_btf) rather than a raw tracepoint: the task pointers are typed, so the kernel stack of a wait can be
 * taken from `next` when it comes back (bpf_get_task_stack), and only for waits already long enough to be kept.
 * Taking it at the switch-out, while the thread is current, would cost an unwind per sleep of every selected thread.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(mw_off_cpu_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct mw_off_cpu_wait *w;
	struct mw_config *cfg;
	__u64 now = bpf_ktime_get_ns();
	__u32 next_tid = next->pid;
	long n;

	/* the thread coming back: the time it was off CPU counts towards its wait */
	w = bpf_map_lookup_elem(&off_cpu_waits, &next_tid);
	if (w && w->off_ns) {
		w->blocked_ns += now - w->off_ns;
		w->off_ns = 0;
		cfg = mw_get_config();
		if (cfg && w->blocked_ns >= cfg->off_cpu_min_ns && w->kernel_words == 0) {
			/* still asleep as far as its stack goes: where it slept */
			n = bpf_get_task_stack(next, w->kernel, sizeof(w->kernel), 0);
			w->kernel_words = n > 0 ? n / sizeof(__u64) : 0;
		}
	}
	/* a preempted or yielding thread is runnable: waiting for a CPU is not blocking */
	if (preempt || mw_task_state(prev) == 0)
		return 0;
	mw_off_cpu_sleep(now);
	return 0;
}

SEC("raw_tp/sys_exit")
int mw_off_cpu_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 ktid = (__u32)bpf_get_current_pid_tgid();
	struct mw_off_cpu_wait *w;
	struct mw_walk_state *st;
	struct mw_config *cfg;
	struct mw_sample *s;
	struct pt_regs *regs;
	__u32 family = MW_FAMILY_EVENTS;
	__u32 words, tgid, i;

	w = bpf_map_lookup_elem(&off_cpu_waits, &ktid);
	if (!w)
		return 0;
	regs = (struct pt_regs *)ctx->args[0];
	cfg = mw_get_config();
	if (!cfg || w->user_ip != BPF_CORE_READ(regs, ip) || w->user_sp != BPF_CORE_READ(regs, sp)) {
		/* the sleeps were not this system call's (a page fault's, say): nothing to say where they were */
		mw_count(MW_STAT_OFF_CPU_LOST);
		bpf_map_delete_elem(&off_cpu_waits, &ktid);
		return 0;
	}
	if (w->blocked_ns < cfg->off_cpu_min_ns) {
		mw_count(MW_STAT_OFF_CPU_SHORT);
		bpf_map_delete_elem(&off_cpu_waits, &ktid);
		return 0;
	}
	s = bpf_map_lookup_elem(&scratch, &family);
	st = bpf_map_lookup_elem(&walk_state, &family);
	if (!s || !st) {
		bpf_map_delete_elem(&off_cpu_waits, &ktid);
		return 0;
	}
	tgid = w->tgid;
	mw_record_header(s, tgid, w->tid, MW_SAMPLE_KERNEL_MODE, MW_SAMPLE_KIND_OFF_CPU, w->blocked_ns);
	/* every slot, used or not, for the verifier's sake (as mw_kernel_stack does) */
	for (i = 0; i < MW_OFF_CPU_KERNEL_FRAMES; i++)
		s->frames[i] = mw_frame_word(MW_FRAME_KERNEL, w->kernel[i]);
	words = w->kernel_words;
	if (words > MW_OFF_CPU_KERNEL_FRAMES)
		words = MW_OFF_CPU_KERNEL_FRAMES;
	s->kernel_frames = words;
	bpf_map_delete_elem(&off_cpu_waits, &ktid);
	mw_count(MW_STAT_OFF_CPU_SAMPLES);

	return mw_event_user_walk(ctx, cfg, regs, s, st, words, tgid);
}

/* mmap, munmap, mprotect of a LuaJIT process: counted; walked at most once per interval (see the top). */
SEC("raw_tp/sys_enter")
int mw_mmap_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = (long)ctx->args[1];
	struct mw_mmap_counts *c, zero_counts = {};
	struct mw_walk_state *st;
	struct mw_config *cfg;
	struct mw_sample *s;
	__u32 family = MW_FAMILY_EVENTS;
	__u64 ids, now, value;
	__u32 tgid;

	if (nr != MW_NR_MMAP && nr != MW_NR_MUNMAP && nr != MW_NR_MPROTECT)
		return 0;
	cfg = mw_get_config();
	if (!cfg)
		return 0;
	ids = mw_current_ids(cfg);
	tgid = ids >> 32;
	if (tgid == 0 || tgid == cfg->agent_pid || (cfg->filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid)) ||
	    !mw_native_pid_luajit(tgid))
		return 0;
	mw_count(MW_STAT_MMAP_CALLS);
	c = bpf_map_lookup_elem(&mmap_counts, &tgid);
	if (!c) {
		bpf_map_update_elem(&mmap_counts, &tgid, &zero_counts, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&mmap_counts, &tgid);
		if (!c) {
			mw_count(MW_STAT_MMAP_LOST);
			return 0;
		}
	}
	/* threads of one process may map at once on other CPUs: atomic adds for what is summed */
	if (nr == MW_NR_MMAP)
		__sync_fetch_and_add(&c->mmap, 1);
	else if (nr == MW_NR_MUNMAP)
		__sync_fetch_and_add(&c->munmap, 1);
	else
		__sync_fetch_and_add(&c->mprotect, 1);
	__sync_fetch_and_add(&c->pending, 1);
	now = bpf_ktime_get_ns();
	if (now - c->last_ns < cfg->mmap_interval_ns) {
		__sync_fetch_and_add(&c->limited, 1);
		return 0;
	}
	/* two CPUs passing here at once both send, each with what it read: the sum stays the calls made, near enough */
	c->last_ns = now;
	value = c->pending;
	__sync_fetch_and_add(&c->pending, -value);
	s = bpf_map_lookup_elem(&scratch, &family);
	st = bpf_map_lookup_elem(&walk_state, &family);
	if (!s || !st)
		return 0;
	mw_count(MW_STAT_MMAP_SAMPLES);
	mw_record_header(s, tgid, (__u32)ids, MW_SAMPLE_KERNEL_MODE, MW_SAMPLE_KIND_MMAP, value);
	s->kernel_frames = 0;
	return mw_event_user_walk(ctx, cfg, (struct pt_regs *)ctx->args[0], s, st, 0, tgid);
}
