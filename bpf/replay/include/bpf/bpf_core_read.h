/* SPDX-License-Identifier: GPL-2.0 */
/* Host replay build: CO-RE reads are plain member reads of the host structs (replay/include/vmlinux.h). */
#ifndef MW_REPLAY_BPF_CORE_READ_H
#define MW_REPLAY_BPF_CORE_READ_H

#define BPF_CORE_READ(src, field) ((src)->field)
/* the replayed thread was stopped in user mode: no kernel-only helper is ever asked for */
#define bpf_core_enum_value_exists(type, value) 0

#endif
