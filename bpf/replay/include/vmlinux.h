/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host replay build (bpf/Makefile target replay): stands in for the vmlinux.h that bpftool dumps from the
 * kernel's BTF. Only the types and constants the walker units use, with the kernel's layouts where the
 * walkers read them (struct pt_regs is x86_64's, whose order NT_PRSTATUS's user_regs_struct shares).
 */
#ifndef MW_REPLAY_VMLINUX_H
#define MW_REPLAY_VMLINUX_H

#include <stddef.h>
#include <stdint.h>

#ifndef MW_HOST_REPLAY
#error "replay/include is the host replay build's: compile with -DMW_HOST_REPLAY"
#endif

typedef uint8_t __u8;
typedef int8_t __s8;
typedef uint16_t __u16;
typedef int16_t __s16;
typedef uint32_t __u32;
typedef int32_t __s32;
typedef uint64_t __u64;
typedef int64_t __s64;

/* x86_64 struct pt_regs (arch/x86/include/asm/ptrace.h) = the first 21 words of user_regs_struct */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs, flags,
		sp, ss;
};

typedef struct pt_regs bpf_user_pt_regs_t;

struct bpf_perf_event_data {
	bpf_user_pt_regs_t regs;
	__u64 sample_period;
	__u64 addr;
};

/* what the sampler reads of a task: whether it has an mm (user stack) and its kernel stack */
struct task_struct {
	void *mm;
	void *stack;
};

struct bpf_pidns_info {
	__u32 pid;
	__u32 tgid;
};

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PROG_ARRAY = 3,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_LPM_TRIE = 11,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum bpf_func_id {
	BPF_FUNC_task_pt_regs = 175,
};

enum {
	BPF_ANY = 0,
	BPF_F_NO_PREALLOC = 1,
	BPF_RB_NO_WAKEUP = 1,
	BPF_F_USER_STACK = 256,
};

#endif
