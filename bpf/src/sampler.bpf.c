// SPDX-License-Identifier: GPL-2.0
/*
 * moonwalk sampler: a perf_event program (software cpu-clock, one event per online CPU) that
 * records kernel + user stacks of the interrupted task into the ring buffer, and a tracepoint
 * program that reports whole-process exits.
 *
 * Kernel requirements: 5.15 or newer with BTF (CO-RE). Nothing newer is used:
 *   helpers   bpf_get_stack (4.18), bpf_ringbuf_output (5.8), bpf_get_current_task (4.8),
 *             bpf_get_current_pid_tgid, bpf_get_current_comm, bpf_get_smp_processor_id,
 *             bpf_ktime_get_ns, bpf_map_lookup_elem, bpf_map_delete_elem
 *   maps      ARRAY, HASH, PERCPU_ARRAY, RINGBUF (5.8)
 *   verifier  bounded loops (5.3), CO-RE field relocations (task->signal->live, task->mm)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "moonwalk.h"
#include "maps.h"

#define MW_SAMPLE_HEADER_BYTES __builtin_offsetof(struct mw_sample, frames)

static __always_inline __u64 mw_error_word(__u64 reason)
{
	return ((__u64)MW_FRAME_ERROR << MW_FRAME_KIND_SHIFT) | reason;
}

static __always_inline __u64 mw_frame_word(__u64 kind, __u64 addr)
{
	return (kind << MW_FRAME_KIND_SHIFT) | (addr & MW_FRAME_ADDR_MASK);
}

/*
 * Kernel mode is told from the interrupted IP: kernel text lives in the upper half of the address
 * space on x86_64 and arm64. Reading regs->cs would be x86-only, and since FRED (6.9) cs is a
 * 16-bit union member that the perf_event context (8-byte reads only) cannot load.
 */
static __always_inline int mw_interrupted_kernel(struct bpf_perf_event_data *ctx)
{
	return (long)PT_REGS_IP(&ctx->regs) < 0;
}

/*
 * Kernel stack at frames[0..]: leaf first, as the kernel's frame-pointer/ORC unwinder reports it.
 * Returns the number of words written (frames, or one error word). A sample that interrupted user
 * code has no kernel frames (bpf_get_stack returns 0 for it).
 */
static __always_inline __u32 mw_kernel_stack(struct bpf_perf_event_data *ctx, struct mw_sample *s)
{
	long n = bpf_get_stack(ctx, s->frames, MW_MAX_KERNEL_FRAMES * sizeof(__u64), 0);
	__u32 i;

	if (n < 0) {
		mw_count(MW_STAT_KERNEL_STACK_ERR);
		s->frames[0] = mw_error_word(MW_ERR_KERNEL_STACK_FAILED);
		return 1;
	}
	n /= sizeof(__u64);
	/*
	 * Every slot is encoded, used or not, with no test against n: any branch on n makes the
	 * verifier split n's range into one state per value, and the states multiply through the
	 * rest of the program (past the 1M-instruction limit). Encoding unused slots costs ~130
	 * ALU ops; they are never emitted.
	 */
	for (i = 0; i < MW_MAX_KERNEL_FRAMES; i++)
		s->frames[i] = mw_frame_word(MW_FRAME_KERNEL, s->frames[i]);
	if (n >= MW_MAX_KERNEL_FRAMES) {
		/* bpf_get_stack cuts silently at the buffer (or kernel.perf_event_max_stack): say so */
		s->flags |= MW_SAMPLE_TRUNCATED;
		s->frames[MW_MAX_KERNEL_FRAMES] = mw_error_word(MW_ERR_DEPTH_LIMIT);
		return MW_MAX_KERNEL_FRAMES + 1;
	}
	return n;
}

/*
 * User stack at frames[at..]. For now the kernel's frame-pointer walk (BPF_F_USER_STACK, which
 * starts from the task's saved user registers when the sample hit kernel mode); the DWARF walker
 * replaces this function. Every frame but the leaf is a return address.
 * Returns the number of words written.
 */
static __always_inline __u32 mw_user_stack(struct bpf_perf_event_data *ctx, struct mw_sample *s,
					   __u32 at)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 *buf;
	long n;
	__u32 i;

	/* at <= MW_MAX_KERNEL_FRAMES + 1; the mask proves it to the verifier */
	at &= 0xff;
	if (at > MW_MAX_KERNEL_FRAMES + 1)
		return 0;
	buf = &s->frames[at];

	n = bpf_get_stack(ctx, buf, MW_MAX_USER_FRAMES * sizeof(__u64), BPF_F_USER_STACK);
	if (n < 0 || (n == 0 && BPF_CORE_READ(task, mm))) {
		/* n == 0 is normal only for kernel threads, which have no mm */
		mw_count(MW_STAT_USER_STACK_ERR);
		buf[0] = mw_error_word(MW_ERR_USER_STACK_FAILED);
		return 1;
	}
	n /= sizeof(__u64);
	/* branch-free over all slots, for the same verifier reason as the kernel stack */
	for (i = 0; i < MW_MAX_USER_FRAMES; i++)
		buf[i] = mw_frame_word(MW_FRAME_NATIVE, buf[i]) | (i > 0 ? MW_FRAME_RETURN_ADDR : 0);
	if (n >= MW_MAX_USER_FRAMES) {
		s->flags |= MW_SAMPLE_TRUNCATED;
		buf[MW_MAX_USER_FRAMES] = mw_error_word(MW_ERR_DEPTH_LIMIT);
		return MW_MAX_USER_FRAMES + 1;
	}
	return n;
}

SEC("perf_event")
int mw_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u32 tid = (__u32)id;
	struct mw_config *cfg;
	struct mw_sample *s;
	__u32 zero = 0;
	__u32 words;
	__u64 bytes;

	if (tid == 0) {
		mw_count(MW_STAT_SKIPPED_IDLE);
		return 0;
	}
	cfg = mw_get_config();
	if (!cfg)
		return 0;
	if (tgid == cfg->agent_pid ||
	    (cfg->filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))) {
		mw_count(MW_STAT_SKIPPED_FILTER);
		return 0;
	}
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;

	s->type = MW_EVENT_SAMPLE;
	s->pid = tgid;
	s->tid = tid;
	s->cpu = bpf_get_smp_processor_id();
	s->ktime_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	s->flags = mw_interrupted_kernel(ctx) ? MW_SAMPLE_KERNEL_MODE : 0;
	s->vm = 0;
	s->vmstate = 0;
	s->reserved = 0;

	words = mw_kernel_stack(ctx, s);
	s->kernel_frames = words;
	if (cfg->user_stacks)
		words += mw_user_stack(ctx, s, words);
	if (words > MW_MAX_FRAME_WORDS)
		words = MW_MAX_FRAME_WORDS;
	s->frame_words = words;

	mw_count(MW_STAT_SAMPLES);
	bytes = MW_SAMPLE_HEADER_BYTES + (__u64)words * sizeof(__u64);
	if (bpf_ringbuf_output(&events, s, bytes, BPF_RB_NO_WAKEUP))
		mw_count(MW_STAT_RINGBUF_FULL);
	return 0;
}

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
 * left in the thread group: the process is gone (this holds on 5.15 through 6.x; the group_dead
 * tracepoint argument only exists on newer kernels). Checking "is the group leader" instead would
 * be wrong: a leader may pthread_exit() while other threads keep running. Two threads exiting at
 * the same moment may both read 0 and report the exit twice; the agent treats exits as
 * idempotent. A thread that execs kills its siblings but stays live itself, so exec is no exit.
 */
SEC("tracepoint/sched/sched_process_exit")
int mw_process_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct mw_config *cfg;
	struct mw_exit e = {};

	if (tgid == 0 || BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	cfg = mw_get_config();
	if (!cfg)
		return 0;
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

char LICENSE[] SEC("license") = "GPL";
