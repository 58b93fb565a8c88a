/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host replay build: the BPF helpers the walker units call, swapped for host ones (replay/replay.c).
 * Nothing else of the units changes: the same sampler.bpf.c, native.bpf.c and luajit.bpf.c are compiled
 * here as for the kernel.
 *   - map definitions keep libbpf's shape (__uint/__type/__array declare pointer members), so each map's
 *     key and value sizes and type are read off its declaration at every lookup;
 *   - bpf_map_lookup_elem passes the map's name (the expression it was called with): the maps the agent
 *     fills are looked up in the Java BpfMaps (the same sync code fills them), the walk's per-CPU scratch
 *     lives in this library;
 *   - bpf_probe_read_user reads the core's memory (through Java);
 *   - bpf_tail_call calls the program directly and returns from the caller, as the kernel's does not come
 *     back; the kernel's limit of 33 tail calls per sample is kept (a walk that needs more fails the same way).
 */
#ifndef MW_REPLAY_BPF_HELPERS_H
#define MW_REPLAY_BPF_HELPERS_H

#define SEC(name)
#define __uint(name, val) int (*name)[val]
#define __type(name, val) __typeof__(val) *name
#define __array(name, val) __typeof__(val) *name[]
#define __hidden __attribute__((visibility("hidden")))
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define __noinline __attribute__((noinline))

/* the number of a map's __uint(field, N) (libbpf reads the same off the BTF of the array type) */
#define MW_HOST_MAP_UINT(map, field) ((unsigned)(sizeof(*(map)->field) / sizeof(int)))

void *mw_host_map_lookup(const char *expr, void *map, const void *key, unsigned key_size, unsigned value_size,
			 unsigned type, unsigned max_entries);
long mw_host_map_update(const char *expr, void *map, const void *key, const void *value);
long mw_host_map_delete(const char *expr, void *map, const void *key);

#define bpf_map_lookup_elem(map_, key_)                                                                   \
	mw_host_map_lookup(#map_, (void *)(map_), (key_), sizeof(*(map_)->key), sizeof(*(map_)->value),     \
			   MW_HOST_MAP_UINT(map_, type), MW_HOST_MAP_UINT(map_, max_entries))
#define bpf_map_update_elem(map, key, value, flags) mw_host_map_update(#map, (void *)(map), (key), (value))
#define bpf_map_delete_elem(map, key) mw_host_map_delete(#map, (void *)(map), (key))

long bpf_probe_read_user(void *dst, __u32 size, const void *unsafe_ptr);
long bpf_probe_read_kernel(void *dst, __u32 size, const void *unsafe_ptr);
long bpf_ringbuf_output(void *ringbuf, void *data, __u64 size, __u64 flags);
long bpf_get_stack(void *ctx, void *buf, __u32 size, __u64 flags);
__u64 bpf_get_current_pid_tgid(void);
__u64 bpf_get_current_task(void);
struct task_struct *bpf_get_current_task_btf(void);
long bpf_task_pt_regs(struct task_struct *task);
long bpf_get_current_comm(void *buf, __u32 size);
__u32 bpf_get_smp_processor_id(void);
__u64 bpf_ktime_get_ns(void);
long bpf_get_ns_current_pid_tgid(__u64 dev, __u64 ino, struct bpf_pidns_info *nsdata, __u32 size);

/* 0 when the program ran (the caller then returns, as a kernel tail call never comes back), -1 when the
 * sample's budget of tail calls is spent (the caller goes on, as after a failed kernel tail call) */
int mw_host_tail_call_enter(void);

#define bpf_tail_call(ctx, progs, slot)                                                                   \
	do {                                                                                                \
		if (mw_host_tail_call_enter() == 0) {                                                       \
			(progs)->values[(slot)](ctx);                                                       \
			return 0;                                                                           \
		}                                                                                           \
	} while (0)

#endif
