/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The native (x86_64) stack walk: one step per frame from the registers in struct mw_walk_state,
 * using the agent-installed pid_maps / unwind_files / unwind_entries / unwind_rules maps
 * (docs/native-unwinding.md).
 *
 * This file is shared with the host replay build (coredump tests). It touches memory and maps only
 * through the macros below, which the BPF build maps to helpers and a host build maps to its own
 * shims, and it calls one function its includer provides:
 *     static void mw_pid_event(__u32 type, __u32 pid, __u64 pc);   (rate-limited event to the agent)
 * The includer also provides the maps pid_maps, unwind_files, unwind_entries, unwind_rules (native.bpf.c
 * owns them in the kernel build).
 */
#ifndef MW_UNWIND_NATIVE_H
#define MW_UNWIND_NATIVE_H

#include "moonwalk.h"
#include "unwind.h"
#include "walk.bpf.h"

#ifndef MW_READ_USER
/* 0 on success, like bpf_probe_read_user */
#define MW_READ_USER(dst, size, src) bpf_probe_read_user((dst), (size), (const void *)(unsigned long)(src))
#endif
#ifndef MW_LOOKUP
#define MW_LOOKUP(map, key) bpf_map_lookup_elem((map), (key))
#endif
#ifndef MW_INLINE
#define MW_INLINE static __always_inline
#endif

/* Interpreter hand-over (the LuaJIT unit's mw_luajit_interp_hook): MW_STEP_CONTINUE or a value that ends the step. */
#ifndef MW_INTERP_HOOK
#define MW_INTERP_HOOK(st, m, pc) 0
#endif

/* Keys are big-endian; both targets (x86_64, arm64) are little-endian. */
#define MW_BE32(x) __builtin_bswap32(x)
#define MW_BE64(x) __builtin_bswap64(x)

/* x86_64 signal frame: at __restore_rt rsp points at the ucontext (the handler's ret popped pretcode);
 * uc_mcontext (struct sigcontext) starts after uc_flags, uc_link and uc_stack. */
#define MW_UC_MCONTEXT 40
#define MW_SC_RBP 80
#define MW_SC_RSP 120
#define MW_SC_RIP 128

MW_INLINE __u64 mw_native_word(__u64 rip, __u8 return_addr)
{
	return ((__u64)MW_FRAME_NATIVE << MW_FRAME_KIND_SHIFT) | (rip & MW_FRAME_ADDR_MASK) |
	       (return_addr ? MW_FRAME_RETURN_ADDR : 0);
}

/* The mapping that holds pc, or NULL. Kind is checked by the caller. */
MW_INLINE struct mw_mapping *mw_find_mapping(__u32 pid, __u64 pc)
{
	struct mw_pid_key key;

	key.prefixlen = 96;
	key.pid_be = MW_BE32(pid);
	key.address_be = MW_BE64(pc);
	return MW_LOOKUP(&pid_maps, &key);
}

/* Whether the agent has installed this pid's mappings (the full-length marker at address 0). */
MW_INLINE int mw_pid_synced(__u32 pid)
{
	struct mw_mapping *m = mw_find_mapping(pid, 0);

	return m && m->kind == MW_MAP_PID_MARKER;
}

/*
 * Index of the last entry of [first, first + count) whose pc <= off, or -1 when off is below the
 * first entry. A fixed number of halvings with no data-dependent exit keeps the verifier's work
 * linear.
 */
MW_INLINE long mw_find_entry(__u32 first, __u32 count, __u32 off)
{
	struct mw_unwind_entry *e;
	__u32 lo = first;
	__u32 n = count;
	__u32 idx;
	int i;

	if (n == 0)
		return -1;
	for (i = 0; i < MW_BSEARCH_STEPS; i++) {
		__u32 half = n >> 1;

		if (half == 0)
			break;
		idx = lo + half;
		e = MW_LOOKUP(&unwind_entries, &idx);
		if (!e)
			return -1;
		if (e->pc <= off)
			lo = idx;
		n -= half;
	}
	e = MW_LOOKUP(&unwind_entries, &lo);
	if (!e || e->pc > off)
		return -1;
	return lo;
}

/* Frame-pointer step for code without an unwind table: [rbp] = caller's rbp, [rbp+8] = return address. */
MW_INLINE int mw_fp_step(struct mw_walk_state *st)
{
	__u64 pair[2];

	if (!st->rbp_valid || st->rbp < st->rsp || st->rbp - st->rsp > MW_FP_MAX_FRAME_BYTES || (st->rbp & 7))
		return MW_ERR_NO_UNWIND_INFO;
	if (MW_READ_USER(pair, sizeof(pair), st->rbp))
		return MW_ERR_READ_FAULT;
	st->rsp = st->rbp + 16;
	st->rbp = pair[0];
	st->rip = pair[1];
	st->return_addr = 1;
	return st->rip ? MW_STEP_CONTINUE : MW_STEP_END;
}

/* The interrupted registers saved by the kernel in the rt_sigframe's ucontext. */
MW_INLINE int mw_signal_step(struct mw_walk_state *st)
{
	__u64 sc = st->rsp + MW_UC_MCONTEXT;
	__u64 regs[7]; /* rbp .. rip of struct sigcontext: bp bx dx ax cx sp ip */

	if (MW_READ_USER(regs, sizeof(regs), sc + MW_SC_RBP))
		return MW_ERR_READ_FAULT;
	st->rbp = regs[0];
	st->rsp = regs[5];
	st->rip = regs[6];
	st->rbp_valid = 1;
	/* the interrupted instruction itself, not a return address */
	st->return_addr = 0;
	return st->rip ? MW_STEP_CONTINUE : MW_STEP_END;
}

/*
 * Whether the PC of a CFA_RSP_BLOB entry is inside a leaf subroutine of the blob rather than in the
 * blob's own frame: the word at rsp is then a return address just after a `call rel32` (e8) whose
 * target lies in the blob entry at or before pc. In the blob proper that word is blob data (LuaJIT:
 * the cframe's TMP1/MULTRES slot), which cannot pass both checks. A subroutine's first instruction
 * called from outside the blob (an entry stub) passes too, and there CFA = rsp + 8 is also right.
 */
MW_INLINE int mw_blob_leaf(__u64 rsp, __u64 entry_start, __u64 pc)
{
	__u64 ra;
	__u8 call[5];
	__s32 rel;
	__u64 target;

	if (MW_READ_USER(&ra, sizeof(ra), rsp))
		return 0;
	if (ra < 5 || MW_READ_USER(call, sizeof(call), ra - 5) || call[0] != 0xe8)
		return 0;
	rel = (__s32)((__u32)call[1] | (__u32)call[2] << 8 | (__u32)call[3] << 16 | (__u32)call[4] << 24);
	target = ra + (__s64)rel;
	return target >= entry_start && target <= pc;
}

/* Caches the address range the new st->ft_* table covers in mapping m (see struct mw_walk_state). */
MW_INLINE void mw_cache_range(struct mw_walk_state *st, struct mw_mapping *m)
{
	struct mw_unwind_entry *e;
	__u32 i = st->ft_first;

	st->map_hi = 0;
	if (st->ft_count < 2)
		return;
	e = MW_LOOKUP(&unwind_entries, &i);
	if (!e)
		return;
	st->map_lo = m->bias + st->ft_base + e->pc;
	i = st->ft_first + st->ft_count - 1;
	e = MW_LOOKUP(&unwind_entries, &i);
	if (!e)
		return;
	st->map_hi = m->bias + st->ft_base + e->pc;
	st->map_bias = m->bias;
	st->map_flags = m->flags;
}

/*
 * No rule covers pc. One case has a sure answer: the leaf of a thread in a system call, stopped right after a
 * `syscall` instruction in code without CFI (glibc's clone3 ends its CFI before the syscall, so a thread waiting
 * in posix_spawn's vfork has no rule at its leaf). Such an assembly wrapper has pushed nothing: the return address
 * is at rsp.
 */
MW_INLINE int mw_no_unwind_info(struct mw_walk_state *st, __u64 pc)
{
	__u8 insn[2];
	__u64 ra;

	if (st->user_frames != 1 || st->return_addr || MW_READ_USER(insn, sizeof(insn), pc - 2) ||
	    insn[0] != 0x0f || insn[1] != 0x05)
		return MW_ERR_NO_UNWIND_INFO;
	if (MW_READ_USER(&ra, sizeof(ra), st->rsp))
		return MW_ERR_READ_FAULT;
	st->rsp += 8;
	st->rip = ra;
	st->return_addr = 1;
	return ra ? MW_STEP_CONTINUE : MW_STEP_END;
}

/*
 * One frame: from the registers of the frame at st->rip to its caller's. Returns MW_STEP_CONTINUE,
 * MW_STEP_END (the stack ends here, complete) or the enum mw_error_reason that stops the walk.
 */
MW_INLINE int mw_native_step(struct mw_walk_state *st)
{
	struct mw_mapping *m, cached;
	struct mw_file_table *ft;
	struct mw_unwind_entry *e;
	struct mw_unwind_rule *r;
	__u64 pc = st->return_addr ? st->rip - 1 : st->rip;
	__u64 off, cfa, ra, file_id;
	__u32 rule_index;
	__u8 rbp_kind;
	long idx;
	int hook;

	if (pc >= st->map_lo && pc < st->map_hi) {
		/* in the file of an earlier frame of this walk (its table is the cached one) */
		cached.file_id = st->ft_id;
		cached.bias = st->map_bias;
		cached.kind = MW_MAP_NATIVE;
		cached.flags = st->map_flags;
		m = &cached;
	} else {
		m = mw_find_mapping(st->pid, pc);
		if (!m || (m->kind != MW_MAP_NATIVE && m->kind != MW_MAP_LUAJIT_MCODE)) {
			mw_pid_event(MW_EVENT_UNKNOWN_PC, st->pid, pc);
			return MW_ERR_NO_MAPPING;
		}
	}
	hook = MW_INTERP_HOOK(st, m, pc);
	if (hook != MW_STEP_CONTINUE)
		return hook;
	/* JIT code whose walker is not available (LuaJIT file data gone): no rule to step with */
	if (m->kind != MW_MAP_NATIVE)
		return MW_ERR_NO_UNWIND_INFO;
	file_id = m->file_id;
	if (file_id == 0)
		return mw_fp_step(st);
	if (file_id != st->ft_id) {
		ft = MW_LOOKUP(&unwind_files, &file_id);
		if (!ft)
			return mw_fp_step(st);
		st->ft_id = file_id;
		st->ft_base = ft->base;
		st->ft_first = ft->first;
		st->ft_count = ft->count;
		mw_cache_range(st, m);
	}
	off = pc - m->bias - st->ft_base;
	if (off >> 32)
		return MW_ERR_NO_UNWIND_INFO;
	idx = mw_find_entry(st->ft_first, st->ft_count, (__u32)off);
	if (idx < 0)
		return mw_no_unwind_info(st, pc);
	rule_index = (__u32)idx;
	e = MW_LOOKUP(&unwind_entries, &rule_index);
	if (!e)
		return MW_ERR_NO_UNWIND_INFO;
	rule_index = e->rule;
	r = MW_LOOKUP(&unwind_rules, &rule_index);
	if (!r)
		return MW_ERR_NO_UNWIND_INFO;

	rbp_kind = r->rbp_kind;
	switch (r->kind) {
	case MW_RULE_CFA_RSP:
		cfa = st->rsp + (__s64)r->cfa_offset;
		break;
	case MW_RULE_CFA_RSP_BLOB:
		if (mw_blob_leaf(st->rsp, pc - (off - e->pc), pc)) {
			cfa = st->rsp + 8;
			rbp_kind = MW_RBP_UNCHANGED;
		} else {
			cfa = st->rsp + (__s64)r->cfa_offset;
		}
		break;
	case MW_RULE_CFA_RBP:
		if (!st->rbp_valid)
			return MW_ERR_BAD_CFA;
		cfa = st->rbp + (__s64)r->cfa_offset;
		break;
	case MW_RULE_PLT:
		cfa = st->rsp + (__s64)r->cfa_offset + ((__s64)(st->rip & 15) >= r->rbp_offset ? 8 : 0);
		break;
	case MW_RULE_SIGNAL:
		return mw_signal_step(st);
	case MW_RULE_END:
		return MW_STEP_END;
	case MW_RULE_UNSUPPORTED:
		return MW_ERR_UNSUPPORTED_CFI;
	default:
		return mw_no_unwind_info(st, pc);
	}
	/* the caller's frame is above this one: anything else is a corrupt stack or a wrong rule, and
	 * following it could loop */
	if (cfa <= st->rsp)
		return MW_ERR_BAD_CFA;
	if (rbp_kind == MW_RBP_SAVED_AT_CFA && r->rbp_offset == -16) {
		/* rbp pushed right below the return address (push rbp first, the usual prologue): one read */
		__u64 pair[2];

		if (MW_READ_USER(pair, sizeof(pair), cfa - 16))
			return MW_ERR_READ_FAULT;
		st->rbp = pair[0];
		st->rbp_valid = 1;
		ra = pair[1];
	} else {
		if (MW_READ_USER(&ra, sizeof(ra), cfa - 8))
			return MW_ERR_READ_FAULT;
		if (rbp_kind == MW_RBP_SAVED_AT_CFA) {
			if (MW_READ_USER(&st->rbp, sizeof(st->rbp), cfa + (__s64)r->rbp_offset))
				return MW_ERR_READ_FAULT;
			st->rbp_valid = 1;
		}
	}
	if (rbp_kind == MW_RBP_LOST) {
		st->rbp_valid = 0;
	}
	st->rsp = cfa;
	st->rip = ra;
	st->return_addr = 1;
	return ra ? MW_STEP_CONTINUE : MW_STEP_END;
}

/*
 * Walks up to MW_FRAMES_PER_PROG frames, writing one NATIVE word per frame into frames[] at
 * st->words. Returns MW_STEP_CONTINUE when the budget of this call is used up and the walk can go
 * on, else the final mw_native_step result (or MW_ERR_DEPTH_LIMIT).
 */
MW_INLINE int mw_walk_frames(struct mw_walk_state *st, __u64 *frames)
{
	int i, r;

	for (i = 0; i < MW_FRAMES_PER_PROG; i++) {
		if (st->user_frames >= MW_MAX_USER_FRAMES)
			return MW_ERR_DEPTH_LIMIT;
		frames[st->words & (MW_MAX_FRAME_WORDS - 1)] = mw_native_word(st->rip, st->return_addr);
		st->words++;
		st->user_frames++;
		r = mw_native_step(st);
		if (r != MW_STEP_CONTINUE)
			return r;
	}
	return MW_STEP_CONTINUE;
}

#endif
