// SPDX-License-Identifier: GPL-2.0
/*
 * moonwalk sampler: a perf_event program (software cpu-clock, one event per online CPU) that
 * records kernel + user stacks of the interrupted task into the ring buffer. Owns the record's maps
 * (record.bpf.h), the configuration and PID filter (sampler.bpf.h) and the tail-call array
 * (tailcall.bpf.h). Process exits and execs are reported by the scheduler probes (sched.bpf.c).
 *
 * User stacks: the native walker (native.bpf.c) in the tail-called program mw_walk, which follows
 * the agent-installed unwind tables (frame pointers where a file has none) and hands interpreter
 * frames to the LuaJIT walker (luajit.bpf.c). Processes whose maps are not installed yet get the
 * kernel's frame-pointer walk plus an error frame saying so.
 *
 * The units are compiled to bitcode and linked before optimisation (bpf/Makefile), so the hooks
 * one unit calls in another are inlined as if all were one file.
 *
 * Kernel requirements: 5.8 or newer with BTF (CO-RE); tested from 5.10 (scripts/kernel-matrix). Nothing newer
 * is required:
 *   helpers   bpf_get_stack (4.18), bpf_ringbuf_output (5.8), bpf_get_current_task (4.8),
 *             bpf_get_current_task_btf (5.11) and bpf_task_pt_regs (5.15) where the kernel has them, else
 *             the same registers read through task->stack (mw_saved_user_regs), bpf_probe_read_user and
 *             bpf_probe_read_kernel (5.5), bpf_tail_call (4.2), bpf_get_current_pid_tgid,
 *             bpf_get_current_comm, bpf_get_smp_processor_id, bpf_ktime_get_ns,
 *             bpf_map_lookup_elem, bpf_map_update_elem, bpf_map_delete_elem
 *   maps      ARRAY, HASH, LRU_HASH, PERCPU_ARRAY, LPM_TRIE, PROG_ARRAY, RINGBUF (5.8)
 *   verifier  bounded loops (5.3), CO-RE field relocations (task->signal->live, task->mm),
 *             tail calls from programs with bpf-to-bpf calls are avoided (all helpers inline)
 *   libbpf    declarative PROG_ARRAY initialisation (walker_progs)
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
#include "luajit.bpf.h"

struct mw_config_map config_map SEC(".maps");
struct mw_pid_filter_map pid_filter SEC(".maps");

struct mw_scratch_map scratch SEC(".maps");
struct mw_stats_map stats SEC(".maps");
struct mw_events_map events SEC(".maps");
struct mw_pid_events_map pid_events SEC(".maps");

/* The walkers, entered by tail call so that each program stays small for the verifier and the
 * walk can exceed one program's frame budget. libbpf fills the slots at load. */
struct mw_walker_progs_map walker_progs SEC(".maps") = {
	.values = { [MW_PROG_WALK] = (void *)&mw_walk, [MW_PROG_LUA_WALK] = (void *)&mw_lua_walk },
};

/*
 * A real subprogram (like sched.bpf.c's mw_emit_exit): its prototype keeps struct mw_pid_event in the object's
 * BTF for the agent's layout test. Calls from programs that also tail-call are fine on 5.10+ x86_64.
 * Global (the native walker calls it too) but __hidden: verified in its callers' context, as a static one.
 */
__noinline __hidden int mw_emit_pid_event(struct mw_pid_event *e)
{
	mw_count(MW_STAT_PID_EVENTS);
	if (bpf_ringbuf_output(&events, e, sizeof(*e), BPF_RB_NO_WAKEUP))
		mw_count(MW_STAT_RINGBUF_FULL);
	return 0;
}

/*
 * Kernel stack at frames[0..]: leaf first, as the kernel's frame-pointer/ORC unwinder reports it.
 * Returns the number of words written (frames, or one error word). A sample that interrupted user
 * code has no kernel frames (bpf_get_stack returns 0 for it).
 */
static __always_inline __u32 mw_kernel_stack(struct bpf_perf_event_data *ctx, struct mw_sample *s)
{
	long n;
	__u32 i;

	/* interrupted in user mode: no kernel frames, and the helper call (a perf callchain setup) is a good
	 * part of a short sample's cost */
	if (!mw_interrupted_kernel(ctx))
		return 0;
	n = bpf_get_stack(ctx, s->frames, MW_MAX_KERNEL_FRAMES * sizeof(__u64), 0);
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
 * Frame-pointer user stack at frames[at..] for processes the walker cannot handle yet: the kernel's
 * walk (BPF_F_USER_STACK, which starts from the task's saved user registers when the sample hit
 * kernel mode), followed by the error word `reason`. Every frame but the leaf is a return address.
 * Returns the number of words written.
 */
static __always_inline __u32 mw_fp_user_stack(void *ctx, struct mw_sample *s, __u32 at, __u64 reason)
{
	__u64 *buf;
	long n;
	__u32 i;

	/* at <= MW_MAX_KERNEL_FRAMES + 1; the mask proves it to the verifier */
	at &= 0xff;
	if (at > MW_MAX_KERNEL_FRAMES + 1)
		return 0;
	buf = &s->frames[at];

	n = bpf_get_stack(ctx, buf, MW_MAX_FP_USER_FRAMES * sizeof(__u64), BPF_F_USER_STACK);
	if (n <= 0) {
		/* called only for tasks with an mm, which always have a user leaf */
		mw_count(MW_STAT_USER_STACK_ERR);
		buf[0] = mw_error_word(MW_ERR_USER_STACK_FAILED);
		return 1;
	}
	n /= sizeof(__u64);
	/* branch-free over all slots, for the same verifier reason as the kernel stack */
	for (i = 0; i < MW_MAX_FP_USER_FRAMES; i++)
		buf[i] = mw_frame_word(MW_FRAME_NATIVE, buf[i]) | (i > 0 ? MW_FRAME_RETURN_ADDR : 0);
	if (n > MW_MAX_FP_USER_FRAMES)
		n = MW_MAX_FP_USER_FRAMES;
	buf[n & 0xff] = mw_error_word(n == MW_MAX_FP_USER_FRAMES ? MW_ERR_DEPTH_LIMIT : reason);
	s->flags |= MW_SAMPLE_TRUNCATED;
	return n + 1;
}

/*
 * The user registers of the sampled thread: the interrupted ones when the sample hit user mode,
 * else the ones the kernel saved at the last entry from user space.
 */
static __always_inline int mw_user_regs(struct bpf_perf_event_data *ctx, struct mw_walk_state *st)
{
	struct pt_regs *regs;

	if (!mw_interrupted_kernel(ctx)) {
		st->rip = PT_REGS_IP(&ctx->regs);
		st->rsp = PT_REGS_SP(&ctx->regs);
		st->rbp = PT_REGS_FP(&ctx->regs);
		return 0;
	}
	regs = mw_saved_user_regs();
	if (!regs)
		return -1;
	st->rip = BPF_CORE_READ(regs, ip);
	st->rsp = BPF_CORE_READ(regs, sp);
	st->rbp = BPF_CORE_READ(regs, bp);
	return 0;
}

/*
 * The user part of st->family's record, whose first st->words words are kernel frames, for the current task
 * (process st->pid), whose user registers st holds (rip, rsp, rbp): the walker of st->family through `progs`, which emits the record,
 * or, for a process whose maps are not installed, the kernel's frame-pointer walk and an error frame. pctx: the
 * perf_event context when it interrupted user code (the Lua walk's registers come from it), else NULL; regs:
 * the task's saved user registers when the caller has them (NULL: read them). Shared by the sampler and the
 * event probes (events.bpf.c). Five arguments at most: a BPF function takes no more, inlined or not.
 */
__attribute__((always_inline)) __hidden int mw_start_user_walk(void *ctx, struct mw_walker_progs_map *progs,
								 struct bpf_perf_event_data *pctx, struct pt_regs *regs,
								 struct mw_walk_state *st)
{
	__u32 family = st->family;
	__u32 words = st->words;
	__u32 tgid = st->pid;
	struct mw_sample *s;

	s = bpf_map_lookup_elem(&scratch, &family);
	if (!s)
		return 0;
	if (!mw_native_pid_synced(tgid)) {
		mw_count(MW_STAT_NOT_SYNCED);
		mw_pid_event(MW_EVENT_NEW_PID, tgid, st->rip);
		words += mw_fp_user_stack(ctx, s, words, MW_ERR_PROCESS_NOT_SYNCED);
		mw_emit_sample(s, words);
		return 0;
	}
	st->user_frames = 0;
	st->rbp_valid = 1;
	st->return_addr = 0;
	st->reserved = 0;
	st->ft_id = 0;
	st->map_hi = 0;
	mw_luajit_hook_sample(pctx, regs, st);
	bpf_tail_call(ctx, progs, MW_PROG_WALK);

	mw_count(MW_STAT_WALKER_FAILED);
	words += mw_fp_user_stack(ctx, s, words, MW_ERR_WALKER_UNAVAILABLE);
	mw_emit_sample(s, words);
	return 0;
}

SEC("perf_event")
int mw_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid;
	__u32 tid = (__u32)id;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mw_walk_state *st;
	struct mw_config *cfg;
	struct mw_sample *s;
	__u32 zero = 0;
	__u32 words;

	if (tid == 0) {
		mw_count(MW_STAT_SKIPPED_IDLE);
		return 0;
	}
	cfg = mw_get_config();
	if (!cfg)
		return 0;
	if (cfg->pidns_ino)
		id = mw_current_ids(cfg);
	tgid = id >> 32;
	tid = (__u32)id;
	if (tgid == 0 || tgid == cfg->agent_pid ||
	    (cfg->filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))) {
		mw_count(MW_STAT_SKIPPED_FILTER);
		return 0;
	}
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;

	mw_record_header(s, tgid, tid, mw_interrupted_kernel(ctx) ? MW_SAMPLE_KERNEL_MODE : 0, MW_SAMPLE_KIND_CPU, 0);

	words = mw_kernel_stack(ctx, s);
	s->kernel_frames = words;
	if (!cfg->user_stacks || !BPF_CORE_READ(task, mm)) {
		/* kernel threads have no user stack */
		mw_emit_sample(s, words);
		return 0;
	}
	st = bpf_map_lookup_elem(&walk_state, &zero);
	if (!st || mw_user_regs(ctx, st)) {
		words += mw_fp_user_stack(ctx, s, words, MW_ERR_USER_STACK_FAILED);
		mw_emit_sample(s, words);
		return 0;
	}
	st->family = MW_FAMILY_SAMPLER;
	st->pid = tgid;
	st->words = words;
	mw_start_user_walk(ctx, &walker_progs, mw_interrupted_kernel(ctx) ? NULL : ctx, NULL, st);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
