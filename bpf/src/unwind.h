/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Map layouts of the native unwinder (docs/native-unwinding.md is the contract with the agent, which
 * fills these maps; io.moonwalk.bpf.layout.RecordLayout mirrors the structs and constants).
 *
 * Plain C shared with the agent and the host replay build; the maps themselves are defined by the
 * native walker's unit (native.bpf.c), the walk's scratch state in walk.bpf.h.
 */
#ifndef MW_UNWIND_H
#define MW_UNWIND_H

#include "moonwalk.h"

/* Map sizes (entries). The agent reads them back from the loaded maps, so changing one here is enough. */
#define MW_PID_MAPS_ENTRIES 262144
#define MW_UNWIND_FILES_ENTRIES 8192
#define MW_UNWIND_ENTRIES_ENTRIES 4194304
#define MW_UNWIND_RULES_ENTRIES 65536
#define MW_PID_EVENTS_ENTRIES 16384

/* pid_maps value kinds */
enum mw_map_kind {
	MW_MAP_NATIVE = 1,     /* file-backed (or anonymous) executable code: unwind_files[file_id] or frame pointers */
	MW_MAP_PID_MARKER = 2, /* (pid, address 0), full length: this pid's mappings are installed */
	/* a LuaJIT mcode area (one VM's): file_id = the LuaJIT binary's luajit_files key, bias = the VM's g */
	MW_MAP_LUAJIT_MCODE = 3,
};

/*
 * LPM trie key. prefixlen counts bits of pid and address; pid and address are big-endian so the
 * trie compares their most significant bits first.
 */
struct mw_pid_key {
	__u32 prefixlen;
	__u32 pid_be;
	__u64 address_be;
};

struct mw_mapping {
	__u64 file_id;  /* key of unwind_files; 0: no table, frame-pointer fallback */
	__u64 bias;     /* load address - file virtual address */
	__u32 kind;     /* enum mw_map_kind */
	__u32 flags;
};

/* unwind_files value: the file's entries are unwind_entries[first .. first + count), sorted by pc. */
struct mw_file_table {
	__u64 base;     /* file virtual address that entry pcs are relative to */
	__u32 first;
	__u32 count;
};

/* unwind_entries value */
struct mw_unwind_entry {
	__u32 pc;       /* file virtual address - base */
	__u16 rule;     /* index into unwind_rules */
	__u16 reserved;
};

/* unwind_rules value: io.moonwalk.symbolizer.unwind.UnwindRule.packed() */
struct mw_unwind_rule {
	__u8 kind;      /* enum mw_rule_kind */
	__u8 rbp_kind;  /* enum mw_rbp_kind */
	__s16 rbp_offset; /* PLT: the (rip & 15) threshold */
	__s32 cfa_offset;
};

enum mw_rule_kind {
	MW_RULE_INVALID = 0,
	MW_RULE_CFA_RSP = 1,
	MW_RULE_CFA_RBP = 2,
	MW_RULE_PLT = 3,
	MW_RULE_SIGNAL = 4,
	MW_RULE_END = 5,
	MW_RULE_UNSUPPORTED = 6,
	MW_RULE_CFA_RSP_BLOB = 7, /* CFA_RSP for a hand-written blob with one frame, unless in one of its leaf subroutines */
};

enum mw_rbp_kind {
	MW_RBP_UNCHANGED = 0,
	MW_RBP_SAVED_AT_CFA = 1,
	MW_RBP_LOST = 2,
};

#endif
