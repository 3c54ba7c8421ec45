// SPDX-License-Identifier: GPL-2.0
/*
 * The floor for the overhead benchmark: one empty tp_btf program on each tracepoint of
 * skbtrail's probe table (bpf/skbtrail.h, so the list cannot drift). What it costs is the
 * price of having any BPF program on those tracepoints; skbtrail's cost is compared to it.
 */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "../bpf/skbtrail.h"

char LICENSE[] SEC("license") = "GPL";

#define X(id, prog, tracepoint, skb_arg) \
	SEC("tp_btf/" #prog) int floor_##prog(void *ctx) { return 0; }
SKBTRAIL_TRACEPOINTS(X)
#undef X
