// SPDX-License-Identifier: GPL-2.0
/* A tc program for the VM matrix's --filter-trace-tc cell: lets every packet through with
 * TC_ACT_UNSPEC (-1, "no verdict, go on"), a return value fexit can tell from nothing. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int skbtrail_tc_pass(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}
