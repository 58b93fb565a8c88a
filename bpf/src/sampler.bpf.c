// SPDX-License-Identifier: GPL-2.0
/*
 * moonwalk sampler: a perf_event program (software cpu-clock, one event per online CPU) that
 * records kernel + user stacks of the interrupted task into the ring buffer, and a tracepoint
 * program that reports whole-process exits.
 *
 * User stacks: the native walker (unwind_native.h) in the tail-called program mw_walk, which
 * follows the agent-installed unwind tables (frame pointers where a file has none). Processes whose
 * maps are not installed yet get the kernel's frame-pointer walk plus an error frame saying so.
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
#include "maps.h"

static void mw_pid_event(__u32 type, __u32 pid, __u64 pc);
#include "unwind_luajit.h"
#define MW_INTERP_HOOK(m, pc) mw_luajit_interp_hook((m), (pc))
#include "unwind_native.h"

/*
 * A leaf PC in no mapping of a LuaJIT process (its PID marker carries the LuaJIT file): maybe trace code of an
 * area not routed yet. In GC64 trace code r14 is DISPATCH, so g = r14 - G2DISP; mw_lua_enter_jit then accepts
 * the sample only if g validates and g->vmstate's trace holds the PC (lw->jit_boot), so other JIT code (PCRE)
 * never passes.
 */
MW_INLINE int mw_luajit_boot_hook(__u32 pid, struct mw_lua_walk *lw)
{
	struct mw_luajit_file *lj;
	struct mw_mapping *marker = mw_find_mapping(pid, 0);
	__u64 file_id;

	if (!marker || marker->kind != MW_MAP_PID_MARKER || !(marker->flags & MW_MAPPING_LUAJIT))
		return MW_STEP_CONTINUE;
	file_id = marker->file_id;
	lj = MW_LOOKUP(&luajit_files, &file_id);
	if (!lj || !lj->gc64 || lw->r14 <= lj->g2disp)
		return MW_STEP_CONTINUE;
	lw->lj = *lj;
	lw->cframe = 0;
	lw->jit_g = lw->r14 - lj->g2disp;
	lw->jit_boot = 1;
	return MW_STEP_LUAJIT;
}

int mw_walk(struct bpf_perf_event_data *ctx);
int mw_lua_walk(struct bpf_perf_event_data *ctx);

#define MW_PROG_WALK 0
#define MW_PROG_LUA_WALK 1

/* The walker, entered by tail call so that each program stays small for the verifier and the
 * walk can exceed one program's frame budget. libbpf fills slot 0 at load. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	/* sizes, not BTF types: the kernel refuses BTF key/value types on program arrays */
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct bpf_perf_event_data *));
} walker_progs SEC(".maps") = {
	.values = { [MW_PROG_WALK] = (void *)&mw_walk, [MW_PROG_LUA_WALK] = (void *)&mw_lua_walk },
};

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
 * A real subprogram (like mw_emit_exit): its prototype keeps struct mw_pid_event in the object's
 * BTF for the agent's layout test. Calls from programs that also tail-call are fine on 5.10+ x86_64.
 */
static __noinline int mw_emit_pid_event(struct mw_pid_event *e)
{
	mw_count(MW_STAT_PID_EVENTS);
	if (bpf_ringbuf_output(&events, e, sizeof(*e), BPF_RB_NO_WAKEUP))
		mw_count(MW_STAT_RINGBUF_FULL);
	return 0;
}

/*
 * Tells the agent about a process to sync (NEW_PID) or re-sync (UNKNOWN_PC), at most once per
 * MW_PID_EVENT_INTERVAL_NS per (pid, type): every sample of an unsynced process asks, and the
 * agent needs one request, not 99 per second per CPU.
 */
static __always_inline void mw_pid_event(__u32 type, __u32 pid, __u64 pc)
{
	__u64 key = pid | ((__u64)type << 32);
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
 * Frame-pointer user stack at frames[at..] for processes the walker cannot handle yet: the kernel's
 * walk (BPF_F_USER_STACK, which starts from the task's saved user registers when the sample hit
 * kernel mode), followed by the error word `reason`. Every frame but the leaf is a return address.
 * Returns the number of words written.
 */
static __always_inline __u32 mw_fp_user_stack(struct bpf_perf_event_data *ctx, struct mw_sample *s,
					      __u32 at, __u64 reason)
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

/*
 * x86-64 THREAD_SIZE without KASAN (PAGE_SIZE << 2): the kernel stack the saved user registers sit on top of.
 * Only the fallback below uses it, and only on kernels before 5.15, which have no FRED padding above pt_regs.
 */
#define MW_X86_THREAD_SIZE 16384

/*
 * The registers the kernel saved at the current task's last entry from user space. bpf_task_pt_regs (5.15)
 * where the kernel has it; on older kernels the address x86's task_pt_regs() computes, the top of the task's
 * kernel stack minus one struct pt_regs, read with probe reads (bpf_get_current_task, no BTF pointer needed).
 * The enum test is a CO-RE relocation against the running kernel, so the verifier of an old kernel sees a
 * constant branch and never visits the helpers it does not know.
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

/* Resets the Lua walk state and keeps the leaf registers the interpreter walk needs (BASE, PC, DISPATCH). */
static __always_inline void mw_lua_begin(struct bpf_perf_event_data *ctx, struct mw_walk_state *st)
{
	struct mw_lua_walk *lw;
	struct pt_regs *regs;
	__u32 zero = 0;

	lw = bpf_map_lookup_elem(&lua_walk, &zero);
	if (!lw)
		return;
	lw->leaf_rip = st->rip;
	lw->leaf_rsp = st->rsp;
	lw->cframe = 0;
	lw->L = 0;
	lw->f = MW_LUA_F_NONE;
	lw->pc = 0;
	lw->frames = 0;
	lw->link_fix = 0;
	lw->errors = 0;
	if (!mw_interrupted_kernel(ctx)) {
		lw->rdx = ctx->regs.dx;
		lw->rbx = ctx->regs.bx;
		lw->r14 = ctx->regs.r14;
		return;
	}
	regs = mw_saved_user_regs();
	if (!regs)
		return;
	lw->rdx = BPF_CORE_READ(regs, dx);
	lw->rbx = BPF_CORE_READ(regs, bx);
	lw->r14 = BPF_CORE_READ(regs, r14);
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

SEC("perf_event")
int mw_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
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
	if (!mw_pid_synced(tgid)) {
		mw_count(MW_STAT_NOT_SYNCED);
		mw_pid_event(MW_EVENT_NEW_PID, tgid, st->rip);
		words += mw_fp_user_stack(ctx, s, words, MW_ERR_PROCESS_NOT_SYNCED);
		mw_emit_sample(s, words);
		return 0;
	}
	st->pid = tgid;
	st->words = words;
	st->user_frames = 0;
	st->rbp_valid = 1;
	st->return_addr = 0;
	st->reserved = 0;
	mw_lua_begin(ctx, st);
	bpf_tail_call(ctx, &walker_progs, MW_PROG_WALK);

	mw_count(MW_STAT_WALKER_FAILED);
	words += mw_fp_user_stack(ctx, s, words, MW_ERR_WALKER_UNAVAILABLE);
	mw_emit_sample(s, words);
	return 0;
}

/* The native walk, MW_FRAMES_PER_PROG frames per run, re-entered by tail call until it ends. */
SEC("perf_event")
int mw_walk(struct bpf_perf_event_data *ctx)
{
	struct mw_walk_state *st;
	struct mw_sample *s;
	__u32 zero = 0;
	int r;

	s = bpf_map_lookup_elem(&scratch, &zero);
	st = bpf_map_lookup_elem(&walk_state, &zero);
	if (!s || !st)
		return 0;
	r = mw_walk_frames(st, s->frames);
	if (r == MW_ERR_NO_MAPPING && st->user_frames == 1 && !st->return_addr) {
		struct mw_lua_walk *lw = bpf_map_lookup_elem(&lua_walk, &zero);

		/* lets the agent find the VM of JIT code it has not routed yet (validated there) */
		if (lw) {
			mw_pid_event(MW_EVENT_UNKNOWN_LEAF, st->pid, lw->r14);
			/* meanwhile a GC64 VM's trace code is walked from r14 if vmstate's trace holds the PC */
			if (mw_luajit_boot_hook(st->pid, lw) == MW_STEP_LUAJIT)
				r = MW_STEP_LUAJIT;
		}
	}
	if (r == MW_STEP_CONTINUE) {
		bpf_tail_call(ctx, &walker_progs, MW_PROG_WALK);
		/* the kernel's tail-call budget (33) is spent */
		r = MW_ERR_DEPTH_LIMIT;
	} else if (r == MW_STEP_LUAJIT) {
		mw_count(MW_STAT_LUA_SEGMENTS);
		bpf_tail_call(ctx, &walker_progs, MW_PROG_LUA_WALK);
		r = MW_ERR_DEPTH_LIMIT;
	}
	mw_finish_walk(s, st, r);
	return 0;
}

/* The LuaJIT interpreter walk (unwind_luajit.h): one interpreter frame's Lua frames, then back to mw_walk. */
SEC("perf_event")
int mw_lua_walk(struct bpf_perf_event_data *ctx)
{
	struct mw_walk_state *st;
	struct mw_lua_walk *lw;
	struct mw_sample *s;
	__u32 zero = 0;
	int r;

	s = bpf_map_lookup_elem(&scratch, &zero);
	st = bpf_map_lookup_elem(&walk_state, &zero);
	lw = bpf_map_lookup_elem(&lua_walk, &zero);
	if (!s || !st || !lw)
		return 0;
	r = mw_lua_segment(st, lw, s);
	if (r == MW_LUA_MORE)
		bpf_tail_call(ctx, &walker_progs, MW_PROG_LUA_WALK);
	else if (r == MW_LUA_NATIVE)
		bpf_tail_call(ctx, &walker_progs, MW_PROG_WALK);
	if (r == MW_LUA_MORE || r == MW_LUA_NATIVE)
		r = MW_ERR_DEPTH_LIMIT;
	if (r > 0 && r != MW_ERR_DEPTH_LIMIT)
		mw_count(MW_STAT_LUA_ERRORS);
	mw_finish_walk(s, st, r);
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
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct mw_pid_event e = {};
	struct mw_pid_key key;
	__u64 limit_key;
	struct mw_config *cfg;

	if (tgid == 0)
		return 0;
	cfg = mw_get_config();
	if (!cfg || tgid == cfg->agent_pid)
		return 0;
	key.prefixlen = 96;
	key.pid_be = __builtin_bswap32(tgid);
	key.address_be = 0;
	/* a process the agent never synced has nothing stale: its first sample asks for a sync anyway */
	if (bpf_map_delete_elem(&pid_maps, &key))
		return 0;
	mw_count(MW_STAT_EXECS);
	/* the next sample's NEW_PID request must not be held back by one sent before the exec */
	limit_key = tgid | ((__u64)MW_EVENT_NEW_PID << 32);
	bpf_map_delete_elem(&pid_events, &limit_key);
	e.type = MW_EVENT_EXEC;
	e.pid = tgid;
	e.pc = 0;
	return mw_emit_pid_event(&e);
}

char LICENSE[] SEC("license") = "GPL";
