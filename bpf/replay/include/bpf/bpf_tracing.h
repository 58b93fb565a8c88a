/* SPDX-License-Identifier: GPL-2.0 */
/* Host replay build: x86_64 register accessors over replay/include/vmlinux.h's struct pt_regs. */
#ifndef MW_REPLAY_BPF_TRACING_H
#define MW_REPLAY_BPF_TRACING_H

#define PT_REGS_IP(x) ((x)->ip)
#define PT_REGS_SP(x) ((x)->sp)
#define PT_REGS_FP(x) ((x)->bp)

#endif
