/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sample record under construction and what every program uses to finish it: the per-CPU record
 * (scratch), the ring buffer, the per-CPU counters and the rate-limited requests to the agent. The maps
 * are owned (defined) by sampler.bpf.c; the agent finds them by these names
 * (io.moonwalk.bpf.maps.BpfMaps), so a rename here is a rename there.
 */
#ifndef MW_RECORD_BPF_H
#define MW_RECORD_BPF_H

#include <bpf/bpf_core_read.h>
#include "moonwalk.h"
#include "unwind.h"
#include "walk.bpf.h"

/* Default ring buffer size; the agent overrides it with bpf_map__set_max_entries before load. */
#define MW_RINGBUF_DEFAULT_BYTES (4 * 1024 * 1024)

/* The record is built here, not on the 512-byte BPF stack, and then copied into the ring buffer
 * with its exact length (bpf_ringbuf_reserve needs a constant size, which would waste ~4 KiB of
 * ring per sample for typical 20-40 frame stacks). */
struct mw_scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MW_FAMILIES); /* one record per walk family (enum mw_walk_family) */
	__type(key, __u32);
	__type(value, struct mw_sample);
};

struct mw_stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MW_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
};

struct mw_events_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MW_RINGBUF_DEFAULT_BYTES);
};

/* Rate limit of NEW_PID / UNKNOWN_PC events: (pid | type << 32) -> ktime of the last one sent. */
struct mw_pid_events_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MW_PID_EVENTS_ENTRIES);
	__type(key, __u64);
	__type(value, __u64);
};

extern struct mw_scratch_map scratch SEC(".maps");
extern struct mw_stats_map stats SEC(".maps");
extern struct mw_events_map events SEC(".maps");
extern struct mw_pid_events_map pid_events SEC(".maps");

#define MW_SAMPLE_HEADER_BYTES __builtin_offsetof(struct mw_sample, frames)

/* Sends a struct mw_pid_event (sampler.bpf.c; a real subprogram, see there). */
int mw_emit_pid_event(struct mw_pid_event *e);

static __always_inline void mw_count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &stat);

	/* per-CPU slot, and the kernel's bpf_prog_active guard keeps the perf_event and tracepoint
	 * programs from nesting on one CPU: a plain add is enough */
	if (v)
		*v += 1;
}

static __always_inline __u64 mw_frame_word(__u64 kind, __u64 addr)
{
	return (kind << MW_FRAME_KIND_SHIFT) | (addr & MW_FRAME_ADDR_MASK);
}

static __always_inline __u64 mw_error_word(__u64 reason)
{
	return ((__u64)MW_FRAME_ERROR << MW_FRAME_KIND_SHIFT) | reason;
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
 * x86-64 THREAD_SIZE without KASAN (PAGE_SIZE << 2): the kernel stack the saved user registers sit on top of.
 * Only the fallback below uses it, and only on kernels before 5.15, which have no FRED padding above pt_regs.
 */
#define MW_X86_THREAD_SIZE 16384

/*
 * The registers the kernel saved at the current task's last entry from user space (sampler and LuaJIT hook).
 * bpf_task_pt_regs (5.15) where the kernel has it; on older kernels the address x86's task_pt_regs()
 * computes, the top of the task's kernel stack minus one struct pt_regs, read with probe reads
 * (bpf_get_current_task, no BTF pointer needed). The enum test is a CO-RE relocation against the running
 * kernel, so the verifier of an old kernel sees a constant branch and never visits the helpers it lacks.
 */
static __always_inline struct pt_regs *mw_saved_user_regs(void)
{
	struct task_struct *task;
	void *stack;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
		return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	task = (struct task_struct *)bpf_get_current_task();
	stack = BPF_CORE_READ(task, stack);
	if (!stack)
		return NULL;
	return (struct pt_regs *)((char *)stack + MW_X86_THREAD_SIZE) - 1;
}

/*
 * Tells the agent about a process to sync (NEW_PID) or re-sync (UNKNOWN_PC), at most once per
 * MW_PID_EVENT_INTERVAL_NS per (pid, type): every sample of an unsynced process asks, and the
 * agent needs one request, not 99 per second per CPU.
 */
static __always_inline void mw_pid_event(__u32 type, __u32 pid, __u64 pc)
{
	__u64 key = pid | ((__u64)type << MW_PID_EVENT_TYPE_SHIFT);
	__u64 now = bpf_ktime_get_ns();
	__u64 *last = bpf_map_lookup_elem(&pid_events, &key);
	struct mw_pid_event e;

	if (last && now - *last < MW_PID_EVENT_INTERVAL_NS) {
		mw_count(MW_STAT_PID_EVENTS_LIMITED);
		return;
	}
	bpf_map_update_elem(&pid_events, &key, &now, BPF_ANY);
	e.type = type;
	e.pid = pid;
	e.pc = pc;
	mw_emit_pid_event(&e);
}

/* The fixed part of a record of the current task (the walk fills frames, frame_words, kernel_frames, vm, vmstate). */
static __always_inline void mw_record_header(struct mw_sample *s, __u32 tgid, __u32 tid, __u32 flags, __u32 kind,
					     __u64 value)
{
	s->type = MW_EVENT_SAMPLE;
	s->pid = tgid;
	s->tid = tid;
	s->cpu = bpf_get_smp_processor_id();
	s->ktime_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	s->flags = flags;
	s->vm = 0;
	s->vmstate = 0;
	s->kind = kind;
	s->value = value;
}

/* Sends the record with its exact length. */
static __always_inline void mw_emit_sample(struct mw_sample *s, __u64 words)
{
	__u64 bytes;

	/* 64-bit clamp: a 32-bit one is followed by a zero-extension the verifier loses the bound in */
	if (words > MW_MAX_FRAME_WORDS)
		words = MW_MAX_FRAME_WORDS;
	s->frame_words = words;
	mw_count(MW_STAT_SAMPLES);
	bytes = MW_SAMPLE_HEADER_BYTES + (__u64)words * sizeof(__u64);
	if (bpf_ringbuf_output(&events, s, bytes, BPF_RB_NO_WAKEUP))
		mw_count(MW_STAT_RINGBUF_FULL);
}

/* Ends the walk: the error word if any, counters, the record. */
static __always_inline void mw_finish_walk(struct mw_sample *s, struct mw_walk_state *st, int result)
{
	__u64 words = st->words;

	if (result > 0) {
		s->frames[words & (MW_MAX_FRAME_WORDS - 1)] = mw_error_word(result);
		words++;
		s->flags |= MW_SAMPLE_TRUNCATED;
		mw_count(MW_STAT_UNWIND_ERRORS);
	} else {
		mw_count(MW_STAT_UNWIND_COMPLETE);
	}
	mw_emit_sample(s, words);
}

#endif
