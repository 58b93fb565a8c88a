/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LuaJIT walker data shared by the BPF programs, the host replay build and the agent
 * (docs/luajit-walk.md; mirrored in io.moonwalk.bpf.layout.RecordLayout, checked by RecordLayoutTest).
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

#endif
