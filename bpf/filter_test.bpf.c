// SPDX-License-Identifier: GPL-2.0
/*
 * A test bench for injected pcap filters, run with BPF_PROG_TEST_RUN: the recorder's
 * tp_btf programs can't be test-run, raw_tp ones can. Each program copies a packet from
 * user memory into the same kind of buffer the recorder filters (a map value holding a
 * struct skbtrail_filter_buf), runs the same placeholder the recorder inlines, and
 * returns the filter's return value as the test run's retval.
 *
 * ctx (the test run's ctx_in, u64 each): [0] user address of the packet bytes,
 * [1] bytes captured (at most SKBTRAIL_FILTER_BYTES), [2] length on the wire.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "skbtrail.h"
#include "pcap_filter.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct skbtrail_filter_buf);
} filter_buf SEC(".maps");

static __always_inline struct skbtrail_filter_buf *load_packet(__u64 *ctx, __u32 *caplen)
{
	__u32 zero = 0;
	struct skbtrail_filter_buf *buf = bpf_map_lookup_elem(&filter_buf, &zero);
	__u32 len = ctx[1];

	if (!buf || len > SKBTRAIL_FILTER_BYTES)
		return NULL;
	if (len && bpf_probe_read_user(buf->bytes, len, (void *)ctx[0]))
		return NULL;
	*caplen = len;
	return buf;
}

/* A packet the bench could not load returns this: no filter returns it (it is not 0 or a snaplen). */
#define LOAD_FAILED 0xdeadbeef

SEC("raw_tp")
int filter_test_l2(__u64 *ctx)
{
	__u32 caplen;
	struct skbtrail_filter_buf *buf = load_packet(ctx, &caplen);

	return buf ? (__u32)skbtrail_filter_l2(buf, caplen, ctx[2]) : LOAD_FAILED;
}

SEC("raw_tp")
int filter_test_l3(__u64 *ctx)
{
	__u32 caplen;
	struct skbtrail_filter_buf *buf = load_packet(ctx, &caplen);

	return buf ? (__u32)skbtrail_filter_l3(buf, caplen, ctx[2]) : LOAD_FAILED;
}
