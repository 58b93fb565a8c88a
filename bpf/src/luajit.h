/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LuaJIT walker data shared by the BPF programs, the host replay build and the agent
 * (docs/luajit-walk.md; mirrored in io.moonwalk.agent.bpf.RecordLayout, checked against BTF).
 */
#ifndef MW_LUAJIT_H
#define MW_LUAJIT_H

#include "moonwalk.h"

#define MW_LUAJIT_FILES_ENTRIES 256

/* mw_mapping.flags: the mapping's file is LuaJIT; luajit_files[file_id] holds its interpreter */
#define MW_MAPPING_LUAJIT 0x1

/* bytes of GCproto header the walker reads (>= sizeof(GCproto) of every build; a power of two) */
#define MW_LJ_HDR_BYTES 128

/*
 * luajit_files value, one per LuaJIT binary (keyed by the file id of its unwind table). Offsets are
 * in bytes and extracted from the binary by io.moonwalk.luajit.detect.LuajitDetector.
 */
struct mw_luajit_file {
	__u64 interp_start; /* file virtual address of the interpreter (the DynASM blob) */
	__u64 interp_end;   /* exclusive */
	__u32 g2disp;       /* DISPATCH (r14) - global_State */
	__u16 interp_cfa;   /* the interpreter frame's CFA - rsp (80) */
	__u8 gc64;          /* 64-bit GC refs, two-slot frames */
	__u8 reserved;
	/* cframe (interpreter frame at rsp): SAVE_L, SAVE_PC */
	__u16 cf_l, cf_pc;
	/* lua_State */
	__u16 l_glref, l_base, l_stack, l_maxstack, l_cframe, reserved2;
	/* global_State */
	__u16 g_vmstate, g_cur_l;
	/* GC object header, GCfunc */
	__u16 gc_gct, fn_ffid, fn_pc, fn_cf;
	/* GCproto */
	__u16 pt_size, pt_sizebc, pt_sizept, pt_sizekgc, pt_sizekn, pt_numparams, pt_framesize, pt_sizeuv;
	__u16 pt_firstline, pt_numline, pt_chunkname, pt_lineinfo;
	/* JIT (unwind_luajit.h, mcode areas): global_State -> jit_base, J->trace, J->sizetrace; GCtrace fields */
	__u16 g_jit_base, g_j_trace, g_j_sizetrace;
	__u16 t_mcode, t_szmcode, t_spadjust, t_traceno, t_root, t_startpt, t_startpc;
	__u32 reserved3, reserved4;
};

/* Lua walk state of the current sample (per CPU), carried across tail calls. */
struct mw_lua_walk {
	/* user registers of the sample's leaf */
	__u64 leaf_rip, leaf_rsp, rdx, rbx, r14;
	__u64 cframe;   /* rsp of the interpreter frame being walked; 0: not entered yet */
	__u64 L;        /* lua_State whose frames are being (or were last) walked */
	__u64 f;        /* next frame link slot of L, or MW_LUA_F_NONE / MW_LUA_F_DONE */
	__u64 pc;       /* PC (BCIns *) the frame at f runs at, 0 unknown */
	__u64 stack, maxstack; /* L->stack, L->maxstack */
	__u64 link_fix; /* the leaf frame's link while the interpreter is between setting BASE and writing it */
	__u32 frames;   /* Lua frames emitted in this sample */
	__u32 errors;
	/* set by the hook when the PC is in an mcode area (pid_maps kind MW_MAP_LUAJIT_MCODE) */
	__u64 jit_g;        /* the area's VM (from the LPM value); 0: interpreter frame */
	__u64 jit_startpt;  /* GCproto the matched trace started in, 0 unknown */
	__u64 jit_start_fp; /* its fingerprint */
	__u64 jit_startpc;  /* BCIns * the trace starts at */
	__u32 jit_leaf;     /* the next emitted Lua frame is the trace's frame: traceno | side << 16 | 1 << 31 */
	__u32 jit_boot;     /* jit_g came from r14 of an unrouted leaf: accept only a matching trace */
	struct mw_luajit_file lj;
	__u8 hdr[MW_LJ_HDR_BYTES];
};

#endif
