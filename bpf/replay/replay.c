// SPDX-License-Identifier: GPL-2.0
/*
 * Host replay build: the helpers behind replay/include/bpf/bpf_helpers.h and the library's entry points. The
 * walker units (sampler.bpf.c, native.bpf.c, luajit.bpf.c) are linked in unchanged; mw_replay_sample runs the
 * kernel's sample program mw_sample on one thread's registers from a core file, with
 *   - target memory read through a Java callback (the core's PT_LOAD segments),
 *   - the maps the agent fills (pid_maps, unwind_files, unwind_entries, unwind_rules, luajit_files) looked up
 *     through a Java callback in io.moonwalk.bpf.maps.BpfMaps, filled by the agent's own sync code,
 *   - every other map (the walk's per-CPU scratch, counters, config) held here,
 *   - the ring buffer collected into the caller's buffer (records as the kernel writes them, each preceded by
 *     its u32 length).
 * One walk at a time (the per-CPU scratch is this library's globals): the Java side serialises the calls.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <string.h>
#include <stdlib.h>
#include "moonwalk.h"
#include "sampler.bpf.h"
#include "record.bpf.h"

#define MW_REPLAY_EFAULT 14
#define MW_REPLAY_ENOENT 2
#define MW_REPLAY_ENOSPC 28
/* the kernel's MAX_TAIL_CALL_CNT */
#define MW_REPLAY_MAX_TAIL_CALLS 33
/* lookups of one Java map whose values may be held at once (a walk step holds a few of one map) */
#define MW_REPLAY_VALUE_RING 8
#define MW_REPLAY_MAX_MAPS 32
#define MW_REPLAY_MAX_VALUE 4096

int mw_sample(struct bpf_perf_event_data *ctx);

/* 0: all size bytes of the target at address were copied to dst */
typedef int (*mw_replay_read_fn)(__u64 address, __u32 size, void *dst);
/* 1: key found in the Java map `name`, its value copied to value; 0: no such key */
typedef int (*mw_replay_lookup_fn)(const char *name, const void *key, __u32 key_size, void *value,
				   __u32 value_size);

/* The maps the agent writes (BpfMaps names): everything else is the walk's own state. */
static const char *const java_maps[] = { "pid_maps", "unwind_files", "unwind_entries", "unwind_rules",
					 "luajit_files" };

struct host_map {
	void *map;
	char name[32];
	int java;
	unsigned value_size, max_entries;
	unsigned char *storage;               /* host maps: max_entries values (arrays; hashes hold nothing) */
	unsigned char *ring[MW_REPLAY_VALUE_RING]; /* Java maps: returned values */
	unsigned next;
};

static struct host_map maps[MW_REPLAY_MAX_MAPS];
static unsigned nmaps;
static mw_replay_read_fn read_fn;
static mw_replay_lookup_fn lookup_fn;
static struct task_struct task = { .mm = (void *)1 };
static __u64 pid_tgid;
static char comm[MW_COMM_LEN];
static unsigned tail_calls;
static unsigned char *out_buf;
static __u32 out_cap, out_len, out_dropped;

/* "(&unwind_files)" -> "unwind_files" */
static void map_name(const char *expr, char *name, size_t cap)
{
	size_t n = 0;

	for (; *expr && n + 1 < cap; expr++) {
		char c = *expr;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
			name[n++] = c;
	}
	name[n] = 0;
}

static struct host_map *host_map(const char *expr, void *map, unsigned value_size, unsigned type,
				 unsigned max_entries)
{
	struct host_map *m;
	unsigned i;

	for (i = 0; i < nmaps; i++)
		if (maps[i].map == map)
			return &maps[i];
	if (nmaps == MW_REPLAY_MAX_MAPS)
		return NULL;
	m = &maps[nmaps];
	memset(m, 0, sizeof(*m));
	m->map = map;
	map_name(expr, m->name, sizeof(m->name));
	m->value_size = value_size;
	m->max_entries = max_entries;
	for (i = 0; i < sizeof(java_maps) / sizeof(java_maps[0]); i++)
		if (!strcmp(m->name, java_maps[i]))
			m->java = 1;
	if (m->java) {
		if (value_size > MW_REPLAY_MAX_VALUE)
			return NULL;
		for (i = 0; i < MW_REPLAY_VALUE_RING; i++)
			if (!(m->ring[i] = calloc(1, value_size)))
				return NULL;
	} else if (type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		/* one CPU: a per-CPU array is an array */
		if (!(m->storage = calloc(max_entries, value_size)))
			return NULL;
	}
	nmaps++;
	return m;
}

void *mw_host_map_lookup(const char *expr, void *map, const void *key, unsigned key_size, unsigned value_size,
			 unsigned type, unsigned max_entries)
{
	struct host_map *m = host_map(expr, map, value_size, type, max_entries);
	unsigned char *v;
	__u32 index;

	if (!m)
		return NULL;
	if (m->java) {
		if (!lookup_fn)
			return NULL;
		v = m->ring[m->next++ % MW_REPLAY_VALUE_RING];
		return lookup_fn(m->name, key, key_size, v, value_size) == 1 ? v : NULL;
	}
	if (!m->storage)
		return NULL; /* a host hash (pid_events, pid_filter) holds nothing: every lookup misses */
	memcpy(&index, key, sizeof(index));
	return index < m->max_entries ? m->storage + (size_t)index * m->value_size : NULL;
}

/* pid_events (the rate limit of requests to the agent): a replay asks every time */
long mw_host_map_update(const char *expr, void *map, const void *key, const void *value)
{
	(void)expr, (void)map, (void)key, (void)value;
	return 0;
}

/* pid_maps marker after an exec (sched.bpf.c, not part of a replay) */
long mw_host_map_delete(const char *expr, void *map, const void *key)
{
	(void)expr, (void)map, (void)key;
	return -MW_REPLAY_ENOENT;
}

long bpf_probe_read_user(void *dst, __u32 size, const void *unsafe_ptr)
{
	if (read_fn && read_fn((__u64)(unsigned long)unsafe_ptr, size, dst) == 0)
		return 0;
	memset(dst, 0, size); /* as the kernel's helper does on a fault */
	return -MW_REPLAY_EFAULT;
}

long bpf_probe_read_kernel(void *dst, __u32 size, const void *unsafe_ptr)
{
	(void)unsafe_ptr;
	memset(dst, 0, size);
	return -MW_REPLAY_EFAULT;
}

long bpf_ringbuf_output(void *ringbuf, void *data, __u64 size, __u64 flags)
{
	(void)ringbuf, (void)flags;
	if (!out_buf || out_len + 4 + size > out_cap) {
		out_dropped++;
		return -MW_REPLAY_ENOSPC;
	}
	memcpy(out_buf + out_len, &(__u32){ (__u32)size }, 4);
	memcpy(out_buf + out_len + 4, data, size);
	out_len += 4 + (__u32)size;
	return 0;
}

/* a core holds the user registers only: no kernel stack, and the kernel's frame-pointer walk of the user
 * stack (processes not synced) is not available either */
long bpf_get_stack(void *ctx, void *buf, __u32 size, __u64 flags)
{
	(void)ctx, (void)buf, (void)size;
	return (flags & BPF_F_USER_STACK) ? -MW_REPLAY_EFAULT : 0;
}

__u64 bpf_get_current_pid_tgid(void)
{
	return pid_tgid;
}

__u64 bpf_get_current_task(void)
{
	return (__u64)(unsigned long)&task;
}

struct task_struct *bpf_get_current_task_btf(void)
{
	return &task;
}

long bpf_task_pt_regs(struct task_struct *t)
{
	(void)t;
	return 0;
}

long bpf_get_current_comm(void *buf, __u32 size)
{
	memset(buf, 0, size);
	memcpy(buf, comm, size < sizeof(comm) ? size : sizeof(comm));
	((char *)buf)[size - 1] = 0;
	return 0;
}

__u32 bpf_get_smp_processor_id(void)
{
	return 0;
}

__u64 bpf_ktime_get_ns(void)
{
	return 0;
}

long bpf_get_ns_current_pid_tgid(__u64 dev, __u64 ino, struct bpf_pidns_info *nsdata, __u32 size)
{
	(void)dev, (void)ino;
	memset(nsdata, 0, size);
	return -MW_REPLAY_ENOENT;
}

int mw_host_tail_call_enter(void)
{
	if (tail_calls >= MW_REPLAY_MAX_TAIL_CALLS)
		return -1;
	tail_calls++;
	return 0;
}

/* ---- entry points (io.moonwalk.bpf.replay.HostWalker) ---- */

__attribute__((visibility("default"))) void mw_replay_bind(mw_replay_read_fn read, mw_replay_lookup_fn lookup)
{
	read_fn = read;
	lookup_fn = lookup;
}

/*
 * Runs mw_sample for thread tid of process pid, stopped at the user registers regs (NT_PRSTATUS's
 * user_regs_struct: its first 21 words are struct pt_regs). The records the programs emit go to out (u32
 * length + record, repeated). Returns the bytes written to out, or -1 when a record did not fit.
 */
__attribute__((visibility("default"))) int mw_replay_sample(__u32 pid, __u32 tid, const char *thread_comm, const __u64 *regs, void *out, __u32 cap)
{
	struct bpf_perf_event_data ctx;
	struct mw_config *cfg;
	__u32 zero = 0;

	memset(&ctx, 0, sizeof(ctx));
	memcpy(&ctx.regs, regs, sizeof(ctx.regs));
	pid_tgid = (__u64)pid << 32 | tid;
	memset(comm, 0, sizeof(comm));
	strncpy(comm, thread_comm, sizeof(comm) - 1);
	tail_calls = 0;
	out_buf = out;
	out_cap = cap;
	out_len = 0;
	out_dropped = 0;
	cfg = bpf_map_lookup_elem(&config_map, &zero);
	if (!cfg)
		return -1;
	memset(cfg, 0, sizeof(*cfg));
	cfg->user_stacks = 1;
	mw_sample(&ctx);
	out_buf = NULL;
	return out_dropped ? -1 : (int)out_len;
}

/* The counters (enum mw_stat) the programs kept since the library was loaded. */
__attribute__((visibility("default"))) int mw_replay_stats(__u64 *out, __u32 n)
{
	__u32 i;

	for (i = 0; i < n && i < MW_STAT_MAX; i++) {
		__u64 *v = bpf_map_lookup_elem(&stats, &i);

		out[i] = v ? *v : 0;
	}
	return (int)i;
}
