/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The LuaJIT interpreter walk (x86_64; GC64 and non-GC64), entered from the native walk whenever its
 * PC lies in a LuaJIT interpreter (the DynASM blob) registered in luajit_files (docs/luajit-walk.md).
 *
 * One native interpreter frame = one VM entry (a "cframe": lj_vm_call/pcall/cpcall/resume) plus
 * every Lua frame that runs on it. For each such frame the walker emits the Lua frames of that
 * segment in place of the interpreter's native frame, then steps over the cframe (CFA = rsp + 80)
 * and hands back to the native walk. The Lua stack of a lua_State is walked from its top frame down
 * to the first C/CP frame link (the frame that called into C, which later re-entered the VM), and
 * the position is remembered: when the native walk reaches the next interpreter frame of the same
 * lua_State, the Lua walk resumes there. An interpreter frame of another lua_State (a coroutine
 * resumed from Lua, or from C) starts that state's walk from its L->base.
 *
 * Like unwind_native.h this file touches memory and maps only through MW_READ_USER / MW_LOOKUP so a
 * host build can run it against a core file. The includer provides the maps luajit_files and
 * lua_walk (luajit.bpf.c owns them in the kernel build) and mw_count().
 */
#ifndef MW_UNWIND_LUAJIT_H
#define MW_UNWIND_LUAJIT_H

#include "moonwalk.h"
#include "unwind.h"
#include "luajit.h"
#include "walk.bpf.h"

#ifndef MW_READ_USER
#define MW_READ_USER(dst, size, src) bpf_probe_read_user((dst), (size), (const void *)(unsigned long)(src))
#endif
#ifndef MW_LOOKUP
#define MW_LOOKUP(map, key) bpf_map_lookup_elem((map), (key))
#endif
#ifndef MW_INLINE
#define MW_INLINE static __always_inline
#endif

/* mw_lua_segment results besides an enum mw_error_reason (> 0) */
#define MW_LUA_MORE 0     /* frame budget of this program run used up: run again */
#define MW_LUA_NATIVE (-3) /* segment done, registers point at the interpreter's caller: native walk */

/* Lua frames walked per program run (verifier cost grows with it) */
#define MW_LUA_FRAMES_PER_PROG 12
/* how far below the leaf's cframe rsp may be while the interpreter runs a subroutine or stub */
#define MW_LJ_LEAF_CFRAME_SLACK 256

/* cframe candidates tried at a non-leaf interpreter frame: rsp, rsp + 8, rsp + 16 */
#define MW_LJ_CFRAME_PROBES 3

/* JIT: CFA = rsp + spadjust + this (the interpreter's 80 plus the 16 bytes the trace entry saves r12/r13 in) */
#define MW_LJ_JIT_CFRAME_EXTRA 16
/* lua_walk.jit_boot: how the VM of an unrouted PC was found (0: the PC is in a routed mcode area) */
#define MW_LJ_BOOT_R14 1   /* GC64 trace code: r14 = DISPATCH, jit_g = r14 - G2DISP */
#define MW_LJ_BOOT_STACK 2 /* non-GC64: jit_g = 0, found from the interpreter frame on the stack */
/* non-GC64 unrouted PC: cframe candidates rsp + 8 k (the trace's spill area, spadjust, lies between) */
#define MW_LJ_JIT_SCAN_PROBES 64
/* bytes of GCtrace read (every field the walker uses lies below, in both GC modes) */
#define MW_LJ_TRACE_BYTES 112
#define MW_LJ_GCT_TRACE 9
#define MW_LJ_JIT_LEAF 0x80000000U
#define MW_LJ_JIT_SIDE 0x10000U

/* Lua frames per sample; deeper Lua stacks end in MW_ERR_DEPTH_LIMIT */
#define MW_MAX_LUA_FRAMES 200

/* lua_walk.f besides a frame address */
#define MW_LUA_F_NONE 0   /* this lua_State was not walked yet in this sample */
#define MW_LUA_F_DONE 1   /* walked to its bottom (or given up on with an error frame) */

/* frame link types (lj_frame.h): type = link & 3, typep = link & 7 */
#define MW_LJ_FRAME_LUA 0
#define MW_LJ_FRAME_C 1
#define MW_LJ_FRAME_CONT 2
#define MW_LJ_FRAME_VARG 3
#define MW_LJ_FRAME_CP 5
#define MW_LJ_CONT_FFI_CALLBACK 1

#define MW_LJ_GCT_THREAD 6
#define MW_LJ_GCT_FUNC 8
/* GC64: a GC pointer is the low 47 bits of a tagged value */
#define MW_LJ_GCPTR_MASK ((1ULL << 47) - 1)

MW_INLINE __u64 mw_lua_word(__u64 kind, __u64 extra, __u64 addr)
{
	return (kind << MW_FRAME_KIND_SHIFT) | (extra << MW_FRAME_EXTRA_SHIFT) | (addr & MW_FRAME_ADDR_MASK);
}

/* A GC reference or MRef of the build's width at addr (0 on a fault). */
MW_INLINE __u64 mw_lj_ref(const struct mw_luajit_file *lj, __u64 addr)
{
	__u64 v = 0;

	if (MW_READ_USER(&v, lj->gc64 ? 8 : 4, addr))
		return 0;
	return v;
}

MW_INLINE __u32 mw_hdr32(const __u8 *h, __u32 off)
{
	off &= MW_LJ_HDR_BYTES - 1;
	if (off > MW_LJ_HDR_BYTES - 4)
		return 0;
	return *(const __u32 *)(h + off);
}

MW_INLINE __u64 mw_hdr_ref(const struct mw_luajit_file *lj, const __u8 *h, __u32 off)
{
	__u64 lo = mw_hdr32(h, off);

	return lj->gc64 ? lo | (__u64)mw_hdr32(h, off + 4) << 32 : lo;
}

MW_INLINE __u8 mw_hdr8(const __u8 *h, __u32 off)
{
	return h[off & (MW_LJ_HDR_BYTES - 1)];
}

MW_INLINE __u64 mw_fmix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* io.moonwalk.luajit.proto.ProtoFingerprint, over the header bytes h of the proto at pt */
MW_INLINE __u64 mw_proto_fingerprint(const struct mw_luajit_file *lj, const __u8 *h, __u64 pt)
{
	__u64 li = mw_hdr_ref(lj, h, lj->pt_lineinfo);
	__u64 x = 0x6d6f6f6e77616c6bULL;

	x = mw_fmix64(x ^ ((__u64)mw_hdr32(h, lj->pt_sizebc) | (__u64)mw_hdr32(h, lj->pt_sizept) << 32));
	x = mw_fmix64(x ^ ((__u64)mw_hdr32(h, lj->pt_sizekgc) | (__u64)mw_hdr32(h, lj->pt_sizekn) << 32));
	x = mw_fmix64(x ^ ((__u64)mw_hdr8(h, lj->pt_numparams) | (__u64)mw_hdr8(h, lj->pt_framesize) << 8 |
			   (__u64)mw_hdr8(h, lj->pt_sizeuv) << 16));
	x = mw_fmix64(x ^ ((__u64)mw_hdr32(h, lj->pt_firstline) | (__u64)mw_hdr32(h, lj->pt_numline) << 32));
	x = mw_fmix64(x ^ mw_hdr_ref(lj, h, lj->pt_chunkname));
	x = mw_fmix64(x ^ (li == 0 ? 0 : li - pt));
	return x == 0 ? 1 : x;
}

/*
 * The MW_INTERP_HOOK of mw_native_step: MW_STEP_LUAJIT when pc lies in a registered interpreter
 * (the file's data is copied into lua_walk for the Lua walker program), else MW_STEP_CONTINUE.
 */
MW_INLINE int mw_luajit_interp_hook(__u32 family, struct mw_mapping *m, __u64 pc)
{
	struct mw_luajit_file *lj;
	struct mw_lua_walk *lw;
	__u64 file_id, vaddr;

	if (m->kind == MW_MAP_LUAJIT_MCODE) {
		/* an mcode area of the VM in m->bias: the agent routes only areas from J->mcarea here */
		file_id = m->file_id;
		lj = MW_LOOKUP(&luajit_files, &file_id);
		lw = MW_LOOKUP(&lua_walk, &family);
		if (!lj || !lw || !m->bias)
			return MW_STEP_CONTINUE;
		lw->lj = *lj;
		lw->cframe = 0;
		lw->jit_g = m->bias;
		lw->jit_boot = 0;
		return MW_STEP_LUAJIT;
	}
	if (!(m->flags & MW_MAPPING_LUAJIT))
		return MW_STEP_CONTINUE;
	file_id = m->file_id;
	lj = MW_LOOKUP(&luajit_files, &file_id);
	if (!lj)
		return MW_STEP_CONTINUE;
	vaddr = pc - m->bias;
	if (vaddr < lj->interp_start || vaddr >= lj->interp_end)
		return MW_STEP_CONTINUE;
	lw = MW_LOOKUP(&lua_walk, &family);
	if (!lw)
		return MW_STEP_CONTINUE;
	lw->lj = *lj;
	lw->cframe = 0;
	lw->jit_g = 0;
	lw->jit_boot = 0;
	return MW_STEP_LUAJIT;
}

/* Appends one word; MW_ERR_DEPTH_LIMIT when the record cannot hold `need` more words. */
MW_INLINE int mw_lua_put(struct mw_walk_state *st, __u64 *frames, __u64 w, __u32 need)
{
	if (st->words + need > MW_MAX_FRAME_WORDS - 1)
		return MW_ERR_DEPTH_LIMIT;
	frames[st->words & (MW_MAX_FRAME_WORDS - 1)] = w;
	st->words++;
	return 0;
}

/*
 * Bytes of a GCfunc the walker reads at once: through its pc (Lua) or C entry point (C), whichever ends
 * later; both lie inside every function object. 0 when the offsets do not fit the buffer (a detector bug).
 */
MW_INLINE __u32 mw_lj_fn_bytes(const struct mw_luajit_file *lj)
{
	__u32 end_pc = lj->fn_pc + (lj->gc64 ? 8 : 4);
	__u32 end_cf = lj->fn_cf + 8;
	__u32 n = end_pc > end_cf ? end_pc : end_cf;

	if (n > 64 || lj->gc_gct >= n || lj->fn_ffid >= n)
		return 0;
	return n;
}

/* Is L a lua_State of g? */
MW_INLINE int mw_lj_is_thread_of(const struct mw_luajit_file *lj, __u64 L, __u64 g)
{
	__u8 gct = 0;

	if (!L || MW_READ_USER(&gct, 1, L + lj->gc_gct) || gct != MW_LJ_GCT_THREAD)
		return 0;
	return mw_lj_ref(lj, L + lj->l_glref) == g;
}

/* Does the Lua function fn's bytecode hold the instruction at p? */
MW_INLINE int mw_lj_bc_holds(const struct mw_luajit_file *lj, __u64 fn, __u64 p)
{
	__u8 fhead[2] = {};
	__u32 sizebc = 0;
	__u64 bc;

	if (MW_READ_USER(fhead, sizeof(fhead), fn + lj->gc_gct) || fhead[0] != MW_LJ_GCT_FUNC)
		return 0;
	if (lj->fn_ffid != lj->gc_gct + 1 && MW_READ_USER(&fhead[1], 1, fn + lj->fn_ffid))
		return 0;
	if (fhead[1] != 0)
		return 0;
	bc = mw_lj_ref(lj, fn + lj->fn_pc);
	if (!bc || MW_READ_USER(&sizebc, sizeof(sizebc), bc - lj->pt_size + lj->pt_sizebc))
		return 0;
	return p >= bc && p < bc + 4 * (__u64)sizebc;
}

/*
 * A call sets BASE to the callee's frame a few instructions before it writes the callee's frame link
 * (BC_CALL: lea BASE, ...; ...; mov [BASE-8], PC). A leaf in that window has PC (rbx) still in the
 * caller, just past a CALL whose operand A puts the caller's frame exactly below BASE: when all of
 * that holds, the link is PC. Otherwise the stored link stands (and garbage there fails the walk).
 */
MW_INLINE void mw_lua_leaf_link(struct mw_lua_walk *lw)
{
	const struct mw_luajit_file *lj = &lw->lj;
	__u64 f = lw->f, pc = lw->pc, fn = 0, link = 0, caller_f, caller_fn = 0;
	__u32 ins = 0;

	lw->link_fix = 0;
	if (!pc || (pc & 3))
		return;
	if (lj->gc64) {
		__u64 pair[2];

		if (MW_READ_USER(pair, sizeof(pair), f - 8))
			return;
		fn = pair[0] & MW_LJ_GCPTR_MASK;
		link = pair[1];
	} else {
		__u64 v;

		if (MW_READ_USER(&v, sizeof(v), f))
			return;
		fn = v & 0xffffffffULL;
		link = v >> 32;
	}
	if (link == pc || mw_lj_bc_holds(lj, fn, pc - 4))
		return;
	if (MW_READ_USER(&ins, sizeof(ins), pc - 4))
		return;
	caller_f = f - (((ins >> 8) & 0xff) + 1 + (lj->gc64 ? 1 : 0)) * 8;
	if (lj->gc64) {
		if (MW_READ_USER(&caller_fn, 8, caller_f - 8))
			return;
		caller_fn &= MW_LJ_GCPTR_MASK;
	} else {
		if (MW_READ_USER(&caller_fn, 4, caller_f))
			return;
	}
	if (caller_f < f && mw_lj_bc_holds(lj, caller_fn, pc - 4))
		lw->link_fix = pc;
}

/*
 * Sets up the walk of the segment on the interpreter frame at st->rsp: finds L and g, validates them,
 * and positions lw->f / lw->pc. Returns 0, MW_LUA_NATIVE when this lua_State has nothing left to
 * emit, or an error reason.
 */
MW_INLINE int mw_lua_enter(struct mw_walk_state *st, struct mw_lua_walk *lw, struct mw_sample *s)
{
	const struct mw_luajit_file *lj = &lw->lj;
	__u64 cframe = st->rsp;
	__u64 save_l, save_pc, L = 0, g = 0, cur_l, base;
	int leaf = !st->return_addr && st->rsp == lw->leaf_rsp && st->rip == lw->leaf_rip;
	__s32 vmstate = 0;

	lw->cframe = cframe;
	save_l = mw_lj_ref(lj, cframe + lj->cf_l);
	save_pc = mw_lj_ref(lj, cframe + lj->cf_pc);
	if (leaf) {
		/* the interpreter keeps DISPATCH in r14: the VM is known even if the cframe is not set up yet */
		g = lw->r14 - lj->g2disp;
		cur_l = mw_lj_ref(lj, g + lj->g_cur_l);
		if (mw_lj_is_thread_of(lj, cur_l, g))
			L = cur_l;
	}
	if (!L) {
		int k;

		/*
		 * rsp is the cframe when the interpreter body called out; one or two words below it when a
		 * subroutine of the interpreter (vm_mod, vm_exp2, ...) did, or at an interrupted point
		 */
		for (k = 0; k < MW_LJ_CFRAME_PROBES; k++) {
			__u64 cand = st->rsp + 8 * k;

			save_l = mw_lj_ref(lj, cand + lj->cf_l);
			g = save_l ? mw_lj_ref(lj, save_l + lj->l_glref) : 0;
			if (g && mw_lj_is_thread_of(lj, save_l, g)) {
				cur_l = mw_lj_ref(lj, g + lj->g_cur_l);
				if (mw_lj_is_thread_of(lj, cur_l, g)) {
					L = save_l;
					cframe = cand;
					lw->cframe = cand;
					save_pc = mw_lj_ref(lj, cand + lj->cf_pc);
					break;
				}
			}
		}
		if (!L)
			return MW_ERR_LUA_NO_VM;
	}
	if (leaf) {
		/*
		 * The interpreter's rsp is its cframe, except inside the few subroutines it calls (vm_mod,
		 * vm_floor, ...) and entry/exit stubs: the running lua_State's cframe is the truth there.
		 */
		__u64 cf = 0;

		/* a native pointer in every build; the low two bits are flags */
		if (!MW_READ_USER(&cf, sizeof(cf), L + lj->l_cframe) && (cf & ~3ULL) >= cframe &&
		    (cf & ~3ULL) - cframe <= MW_LJ_LEAF_CFRAME_SLACK)
			cframe = cf & ~3ULL;
		lw->cframe = cframe;
		save_l = mw_lj_ref(lj, cframe + lj->cf_l);
		save_pc = mw_lj_ref(lj, cframe + lj->cf_pc);
	}
	if (!s->vm) {
		s->vm = g;
		if (!MW_READ_USER(&vmstate, sizeof(vmstate), g + lj->g_vmstate))
			s->vmstate = (__u32)vmstate;
	}
	lw->stack = mw_lj_ref(lj, L + lj->l_stack);
	lw->maxstack = mw_lj_ref(lj, L + lj->l_maxstack);
	if (!lw->stack || lw->maxstack <= lw->stack)
		return MW_ERR_LUA_BAD_FRAME;
	if (lw->L == L) {
		/* the rest of a lua_State whose upper frames an inner interpreter frame emitted */
		if (lw->f == MW_LUA_F_DONE)
			return MW_LUA_NATIVE;
		return 0;
	}
	lw->L = L;
	if (leaf) {
		base = lw->rdx;
		lw->pc = lw->rbx;
	} else {
		/* the interpreter stores BASE in L->base (and the PC in SAVE_PC) before calling out */
		base = 0;
		/* TValue *, a native pointer in every build */
		if (MW_READ_USER(&base, sizeof(base), L + lj->l_base))
			return MW_ERR_LUA_READ_FAULT;
		lw->pc = save_pc != save_l ? save_pc : 0;
	}
	lw->f = base - 8;
	lw->link_fix = 0;
	if (leaf)
		mw_lua_leaf_link(lw);
	return 0;
}

/* Emits the frame of the function object fn running at lw->pc. */
MW_INLINE int mw_lua_emit(struct mw_walk_state *st, struct mw_lua_walk *lw, __u64 *frames, __u64 fn)
{
	const struct mw_luajit_file *lj = &lw->lj;
	__u64 pt, bc, idx = MW_LUA_PC_UNKNOWN, sz, sizebc;
	__u32 fn_bytes = mw_lj_fn_bytes(lj);
	__u8 ffid;
	int r;

	/* the GCfunc's header and its pc / C entry point in one read (they share the slot after the header) */
	if (!fn_bytes || MW_READ_USER(lw->hdr, fn_bytes & (MW_LJ_HDR_BYTES - 1), fn) ||
	    mw_hdr8(lw->hdr, lj->gc_gct) != MW_LJ_GCT_FUNC)
		return MW_ERR_LUA_BAD_FRAME;
	ffid = mw_hdr8(lw->hdr, lj->fn_ffid);
	if (ffid != 0) {
		/* a C function or a built-in: (GCfunc, ffid, C entry point) */
		__u64 cf = mw_hdr32(lw->hdr, lj->fn_cf) | (__u64)mw_hdr32(lw->hdr, lj->fn_cf + 4) << 32;

		lw->jit_leaf = 0;
		r = mw_lua_put(st, frames, mw_lua_word(MW_FRAME_LUA_C, 1, fn), 2);
		if (r)
			return r;
		return mw_lua_put(st, frames, (cf & MW_FRAME_ADDR_MASK) | (__u64)ffid << MW_LUA_C_FFID_SHIFT, 1);
	}
	bc = mw_hdr_ref(lj, lw->hdr, lj->fn_pc);
	pt = bc - lj->pt_size;
	sz = lj->pt_size;
	if (!bc || sz > MW_LJ_HDR_BYTES || sz < 16)
		return MW_ERR_LUA_BAD_FRAME;
	if (MW_READ_USER(lw->hdr, sz, pt))
		return MW_ERR_LUA_READ_FAULT;
	sizebc = mw_hdr32(lw->hdr, lj->pt_sizebc);
	if (lw->pc > bc && !((lw->pc - bc) & 3)) {
		idx = ((lw->pc - bc) >> 2) - 1;
		/* past the bytecode: a PC inside a trace's startins (after a JLOOP exit) or garbage */
		if (idx >= sizebc)
			idx = MW_LUA_PC_UNKNOWN;
	}
	if (lw->jit_leaf) {
		__u32 jl = lw->jit_leaf;
		__u64 w1;

		lw->jit_leaf = 0;
		idx = MW_LUA_PC_UNKNOWN;
		/* the trace's start pc names a line only in the function it started in */
		if (lw->jit_startpt == pt && lw->jit_startpc >= bc && ((lw->jit_startpc - bc) & 3) == 0 &&
		    ((lw->jit_startpc - bc) >> 2) < sizebc)
			idx = (lw->jit_startpc - bc) >> 2;
		w1 = idx | (__u64)(jl & ((1U << MW_LUA_JIT_TRACENO_BITS) - 1)) << MW_LUA_JIT_TRACENO_SHIFT |
		     ((jl & MW_LJ_JIT_SIDE) ? MW_LUA_JIT_SIDE : 0);
		r = mw_lua_put(st, frames, mw_lua_word(MW_FRAME_LUA_JIT, MW_LUA_JIT_EXTRA_WORDS, pt),
			       MW_LUA_JIT_EXTRA_WORDS + 1);
		if (r)
			return r;
		r = mw_lua_put(st, frames, w1, 6);
		if (r)
			return r;
		r = mw_lua_put(st, frames, mw_proto_fingerprint(lj, lw->hdr, pt), 5);
		if (r)
			return r;
		r = mw_lua_put(st, frames, lw->jit_startpt, 4);
		if (r)
			return r;
		r = mw_lua_put(st, frames, lw->jit_start_fp, 3);
		if (r)
			return r;
		/* the trace and the PC in its mcode: the agent finds the snapshot covering it (inlined frames) */
		r = mw_lua_put(st, frames, lw->jit_trace & MW_FRAME_ADDR_MASK, 2);
		if (r)
			return r;
		return mw_lua_put(st, frames, lw->jit_pc & MW_FRAME_ADDR_MASK, 1);
	}
	r = mw_lua_put(st, frames, mw_lua_word(MW_FRAME_LUA, 2, pt), 3);
	if (r)
		return r;
	r = mw_lua_put(st, frames, idx, 2);
	if (r)
		return r;
	return mw_lua_put(st, frames, mw_proto_fingerprint(lj, lw->hdr, pt), 1);
}

/*
 * Walks up to MW_LUA_FRAMES_PER_PROG frames of the current segment. Returns MW_LUA_MORE,
 * MW_LUA_NATIVE (segment ended at a C boundary or the stack bottom) or an error reason.
 */
MW_INLINE int mw_lua_frames(struct mw_walk_state *st, struct mw_lua_walk *lw, __u64 *frames)
{
	const struct mw_luajit_file *lj = &lw->lj;
	__u64 bottom = lw->stack + (lj->gc64 ? 8 : 0);
	__u64 top = lw->maxstack + 16 * 8;
	int i, r;

	for (i = 0; i < MW_LUA_FRAMES_PER_PROG; i++) {
		__u64 f = lw->f, link, fn, next, delta;
		__u32 type;

		if (f <= bottom) {
			lw->f = MW_LUA_F_DONE;
			return MW_LUA_NATIVE;
		}
		if (f >= top || (f & 7))
			return MW_ERR_LUA_BAD_FRAME;
		if (lj->gc64) {
			__u64 pair[2];

			if (MW_READ_USER(pair, sizeof(pair), f - 8))
				return MW_ERR_LUA_READ_FAULT;
			fn = pair[0] & MW_LJ_GCPTR_MASK;
			link = pair[1];
		} else {
			__u64 v;

			if (MW_READ_USER(&v, sizeof(v), f))
				return MW_ERR_LUA_READ_FAULT;
			fn = v & 0xffffffffULL;
			/* ftsz is an int32: deltas are positive, PCs live below 2 GB */
			link = v >> 32;
		}
		if (lw->link_fix) {
			link = lw->link_fix;
			lw->link_fix = 0;
		}
		type = link & 3;
		delta = link & ~7ULL;
		if ((link & 7) == MW_LJ_FRAME_VARG) {
			/* pseudo-frame of a vararg function: its real frame is right below */
			next = f - delta;
			if (next >= f)
				return MW_ERR_LUA_BAD_FRAME;
			lw->f = next;
			continue;
		}
		if (fn != lw->L) {
			/* (a frame whose function slot holds the lua_State is a dummy frame of the error path) */
			if (st->user_frames >= MW_MAX_USER_FRAMES || lw->frames >= MW_MAX_LUA_FRAMES)
				return MW_ERR_DEPTH_LIMIT;
			r = mw_lua_emit(st, lw, frames, fn);
			if (r)
				return r;
			st->user_frames++;
			lw->frames++;
		}
		if (type == MW_LJ_FRAME_LUA) {
			__u32 ins = 0;

			/* the link is the return PC; operand A of the CALL before it is the callee's slot */
			if (MW_READ_USER(&ins, sizeof(ins), link - 4))
				return MW_ERR_LUA_READ_FAULT;
			next = f - (((ins >> 8) & 0xff) + 1 + (lj->gc64 ? 1 : 0)) * 8;
			lw->pc = link;
		} else {
			next = f - delta;
			lw->pc = 0;
			if ((link & 7) == MW_LJ_FRAME_CONT) {
				__u64 cont = 0, pc = 0;

				/* the caller's PC sits below the continuation (lj_frame.h frame_contpc/contv) */
				if (lj->gc64) {
					if (MW_READ_USER(&cont, 8, f - 24) || MW_READ_USER(&pc, 8, f - 16))
						return MW_ERR_LUA_READ_FAULT;
				} else {
					__u64 v;

					if (MW_READ_USER(&v, 8, f - 8))
						return MW_ERR_LUA_READ_FAULT;
					cont = v & 0xffffffffULL;
					pc = v >> 32;
				}
				if (cont == MW_LJ_CONT_FFI_CALLBACK) {
					/* an FFI callback: C (the FFI call) sits between this frame and the next */
					if (next >= f)
						return MW_ERR_LUA_BAD_FRAME;
					lw->f = next;
					return MW_LUA_NATIVE;
				}
				lw->pc = pc;
			} else if (type == MW_LJ_FRAME_C) {
				/* lua_call / lua_pcall / lua_resume entry: the frame below called into C */
				if (next >= f)
					return MW_ERR_LUA_BAD_FRAME;
				lw->f = next <= bottom ? MW_LUA_F_DONE : next;
				return MW_LUA_NATIVE;
			}
		}
		/* a link that does not move toward the bottom would loop */
		if (next >= f)
			return MW_ERR_LUA_BAD_FRAME;
		lw->f = next;
	}
	return MW_LUA_MORE;
}

/* Steps over the interpreter's cframe to the C code that entered the VM (interpreter FDE: CFA =
 * rsp + 80, return address at CFA - 8, rbp saved at CFA - 16). */
MW_INLINE int mw_lua_leave(struct mw_walk_state *st, struct mw_lua_walk *lw)
{
	__u64 cfa = lw->cframe + lw->lj.interp_cfa;
	__u64 regs[2];

	if (MW_READ_USER(regs, sizeof(regs), cfa - 16))
		return MW_ERR_LUA_READ_FAULT;
	st->rsp = cfa;
	st->rbp = regs[0];
	st->rbp_valid = 1;
	st->rip = regs[1];
	st->return_addr = 1;
	return regs[1] ? MW_LUA_NATIVE : MW_STEP_END;
}

/*
 * The VM of non-GC64 trace code at an unrouted PC. No register holds it there (GC64 traces keep DISPATCH in r14),
 * but a trace runs on the C stack right below the interpreter frame it was entered from: that cframe lies at
 * rsp + spadjust + 16 (spadjust, the trace's spill area, is unknown until the trace is), its SAVE_L is the running
 * lua_State and that L's cframe points back at it. The first candidate where both hold, with L the VM's cur_L,
 * gives g (0: none); mw_lua_enter_jit still accepts it only if g->vmstate's trace holds the PC.
 */
MW_INLINE __u64 mw_lj_jit_g_from_stack(const struct mw_luajit_file *lj, __u64 rsp)
{
	__u64 c, L, cf, g;
	int k;

	for (k = 0; k < MW_LJ_JIT_SCAN_PROBES; k++) {
		c = rsp + 8 * k;
		L = mw_lj_ref(lj, c + lj->cf_l);
		if (!L || (L & 7))
			continue;
		cf = 0;
		if (MW_READ_USER(&cf, sizeof(cf), L + lj->l_cframe) || (cf & ~3ULL) != c)
			continue;
		g = mw_lj_ref(lj, L + lj->l_glref);
		if (g && mw_lj_is_thread_of(lj, L, g) && mw_lj_ref(lj, g + lj->g_cur_l) == L)
			return g;
		return 0;
	}
	return 0;
}

/*
 * Sets up the walk of a JIT segment: the PC (st->rip) lies in an mcode area of VM lw->jit_g. The running
 * lua_State is g->cur_L; g->vmstate names the running trace, whose mcode must hold the PC; the trace frame
 * sits right below the interpreter frame it was entered from (L->cframe), so its CFA is rsp + spadjust + 96
 * and also cframe + 80. The Lua frames start at g->jit_base (inlined callees are not on the Lua stack);
 * the first one is emitted as the trace's frame (MW_FRAME_LUA_JIT).
 */
MW_INLINE int mw_lua_enter_jit(struct mw_walk_state *st, struct mw_lua_walk *lw, struct mw_sample *s)
{
	const struct mw_luajit_file *lj = &lw->lj;
	__u64 g = lw->jit_g, pc = st->return_addr ? st->rip - 1 : st->rip;
	__u64 L, cf = 0, cframe, cfa, cfa_vm, base, tarr, T = 0;
	__u64 mcode = 0, startpt = 0, startpc = 0;
	__u32 sizetrace = 0, szmcode = 0, traceno = 0, jl = 0;
	__u16 spadjust = 0, root = 0;
	__s32 vmstate = 0;
	int matched = 0;

	if (lw->jit_boot == MW_LJ_BOOT_STACK) {
		g = mw_lj_jit_g_from_stack(lj, st->rsp);
		if (!g)
			return MW_ERR_NO_MAPPING;
		lw->jit_g = g;
	}

	L = mw_lj_ref(lj, g + lj->g_cur_l);
	if (!mw_lj_is_thread_of(lj, L, g))
		return lw->jit_boot ? MW_ERR_NO_MAPPING : MW_ERR_LUA_NO_VM;
	mw_count(MW_STAT_JIT_SEGMENTS);
	if (MW_READ_USER(&vmstate, sizeof(vmstate), g + lj->g_vmstate))
		return MW_ERR_LUA_READ_FAULT;
	if (vmstate > 0 && !MW_READ_USER(&sizetrace, sizeof(sizetrace), g + lj->g_j_sizetrace) &&
	    (__u32)vmstate < sizetrace && sizetrace <= 65536 &&
	    !MW_READ_USER(&tarr, sizeof(tarr), g + lj->g_j_trace)) {
		T = mw_lj_ref(lj, tarr + (__u64)(__u32)vmstate * (lj->gc64 ? 8 : 4));
		if (T && !MW_READ_USER(lw->hdr, MW_LJ_TRACE_BYTES, T) &&
		    mw_hdr8(lw->hdr, lj->gc_gct) == MW_LJ_GCT_TRACE) {
			traceno = mw_hdr32(lw->hdr, lj->t_traceno) & 0xffff;
			root = mw_hdr32(lw->hdr, lj->t_root) & 0xffff;
			spadjust = mw_hdr32(lw->hdr, lj->t_spadjust) & 0xffff;
			szmcode = mw_hdr32(lw->hdr, lj->t_szmcode);
			/* MCode * is a native pointer in both GC modes */
			mcode = mw_hdr32(lw->hdr, lj->t_mcode) | (__u64)mw_hdr32(lw->hdr, lj->t_mcode + 4) << 32;
			startpt = mw_hdr_ref(lj, lw->hdr, lj->t_startpt);
			startpc = mw_hdr_ref(lj, lw->hdr, lj->t_startpc);
			matched = traceno == (__u32)vmstate && pc >= mcode && pc < mcode + szmcode;
		}
	}
	if (!matched && lw->jit_boot)
		return MW_ERR_NO_MAPPING;
	if (!s->vm) {
		s->vm = g;
		s->vmstate = (__u32)vmstate;
	}
	/* the interpreter frame the trace was entered from: the VM's current cframe */
	if (MW_READ_USER(&cf, sizeof(cf), L + lj->l_cframe))
		return MW_ERR_LUA_READ_FAULT;
	cframe = cf & ~3ULL;
	cfa_vm = cframe + lj->interp_cfa;
	cfa = cfa_vm;
	if (matched) {
		cfa = st->rsp + spadjust + lj->interp_cfa + MW_LJ_JIT_CFRAME_EXTRA;
		if (cfa != cfa_vm) {
			mw_count(MW_STAT_JIT_CFA_DISAGREE);
			/* trace entry before `sub rsp, spadjust`, or in a stub: the VM's cframe is the truth when sane */
			if (cframe > st->rsp && cfa_vm - st->rsp <= 0x10000 + lj->interp_cfa + MW_LJ_JIT_CFRAME_EXTRA)
				cfa = cfa_vm;
		}
		jl = MW_LJ_JIT_LEAF | traceno | (root ? MW_LJ_JIT_SIDE : 0);
	} else {
		if (lw->jit_boot)
			return MW_ERR_NO_MAPPING;
		mw_count(MW_STAT_JIT_UNMATCHED);
		jl = MW_LJ_JIT_LEAF;
		startpt = 0;
		startpc = 0;
	}
	if (cfa <= st->rsp || cfa - st->rsp > 0x10000 + lj->interp_cfa + MW_LJ_JIT_CFRAME_EXTRA)
		return MW_ERR_BAD_CFA;
	lw->cframe = cfa - lj->interp_cfa;
	lw->jit_startpt = startpt;
	lw->jit_startpc = startpc;
	lw->jit_trace = matched ? T : 0;
	lw->jit_pc = pc;
	lw->jit_start_fp = 0;
	if (startpt && lj->pt_size <= MW_LJ_HDR_BYTES && lj->pt_size >= 16 &&
	    !MW_READ_USER(lw->hdr, MW_LJ_HDR_BYTES, startpt))
		lw->jit_start_fp = mw_proto_fingerprint(lj, lw->hdr, startpt);
	lw->stack = mw_lj_ref(lj, L + lj->l_stack);
	lw->maxstack = mw_lj_ref(lj, L + lj->l_maxstack);
	if (!lw->stack || lw->maxstack <= lw->stack)
		return MW_ERR_LUA_BAD_FRAME;
	base = mw_lj_ref(lj, g + lj->g_jit_base);
	if (!base && MW_READ_USER(&base, sizeof(base), L + lj->l_base))
		return MW_ERR_LUA_READ_FAULT;
	lw->L = L;
	lw->f = base - 8;
	lw->pc = 0;
	lw->link_fix = 0;
	lw->jit_leaf = jl;
	return 0;
}

/*
 * One run of the Lua walker program. On the first run for an interpreter frame it replaces the
 * frame's native word (already written by the native walk) with the segment's Lua frames.
 * Returns MW_LUA_MORE (run again), MW_LUA_NATIVE (continue natively from st), MW_STEP_END, or an
 * error reason that ends the walk.
 */
MW_INLINE int mw_lua_segment(struct mw_walk_state *st, struct mw_lua_walk *lw, struct mw_sample *s)
{
	int r;

	if (!lw->cframe) {
		if (st->words > 0 && st->user_frames > 0) {
			st->words--;
			st->user_frames--;
		}
		lw->jit_leaf = 0;
		r = lw->jit_g || lw->jit_boot == MW_LJ_BOOT_STACK ? mw_lua_enter_jit(st, lw, s) : mw_lua_enter(st, lw, s);
		if (r == MW_LUA_NATIVE)
			return mw_lua_leave(st, lw);
		if (r) {
			/* no VM here: keep the interpreter's native frame, say why, and stop (without a valid
			 * cframe the step over it could be garbage) */
			st->words++;
			st->user_frames++;
			return r;
		}
	}
	r = mw_lua_frames(st, lw, s->frames);
	if (r == MW_LUA_MORE)
		return MW_LUA_MORE;
	if (r > 0) {
		/* a broken Lua stack: say so in place of the rest of this lua_State, then go on natively
		 * (the cframe was validated, so the native step over it is sound) */
		if (r == MW_ERR_DEPTH_LIMIT)
			return r;
		if (mw_lua_put(st, s->frames, ((__u64)MW_FRAME_ERROR << MW_FRAME_KIND_SHIFT) | (__u64)r, 1))
			return MW_ERR_DEPTH_LIMIT;
		st->user_frames++;
		lw->f = MW_LUA_F_DONE;
		lw->errors++;
	}
	return mw_lua_leave(st, lw);
}

#endif
