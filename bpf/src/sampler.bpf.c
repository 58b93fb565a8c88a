// SPDX-License-Identifier: GPL-2.0
/* Placeholder: replaced by the sampler program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "moonwalk.h"

SEC("perf_event")
int mw_sample(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
