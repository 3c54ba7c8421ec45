/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one definition of what crosses the kernel/user boundary: the event record,
 * the load-time settings and the probe table. Included by bpf/skbtrail.bpf.c and by
 * the native addon; the TypeScript side learns the probe table from the addon.
 */
#ifndef SKBTRAIL_H
#define SKBTRAIL_H

#define SKBTRAIL_SNAPLEN_MAX 256
#define SKBTRAIL_OFF_NONE 0xffff
#define SKBTRAIL_COMM_LEN 16

/*
 * Probe table: X(id, program name, tracepoint name, skb argument). The id is the
 * event's `probe` field and the dictionary index of the recording's func column; never
 * renumber. The skb argument is the position of the struct sk_buff * among the
 * tracepoint's arguments: the addon checks it against the running kernel's
 * btf_trace_<name> before loading, so a tracepoint this kernel lacks or changed is
 * skipped instead of failing the whole load.
 */
#define SKBTRAIL_TRACEPOINTS(X)                                         \
	X(0, kfree_skb, "skb:kfree_skb", 0)                             \
	X(1, consume_skb, "skb:consume_skb", 0)                         \
	X(2, skb_copy_datagram_iovec, "skb:skb_copy_datagram_iovec", 0) \
	X(3, net_dev_queue, "net:net_dev_queue", 0)                     \
	X(4, net_dev_start_xmit, "net:net_dev_start_xmit", 0)           \
	X(5, net_dev_xmit, "net:net_dev_xmit", 0)                       \
	X(6, netif_rx, "net:netif_rx", 0)                               \
	X(7, netif_receive_skb, "net:netif_receive_skb", 0)             \
	X(8, napi_gro_receive_entry, "net:napi_gro_receive_entry", 0)   \
	X(9, netif_receive_skb_entry, "net:netif_receive_skb_entry", 0) \
	X(10, qdisc_enqueue, "qdisc:qdisc_enqueue", 2)                  \
	X(11, qdisc_dequeue, "qdisc:qdisc_dequeue", 3)                  \
	X(12, tcp_retransmit_skb, "tcp:tcp_retransmit_skb", 1)          \
	X(13, tcp_send_reset, "tcp:tcp_send_reset", 1)                  \
	X(14, udp_fail_queue_rcv_skb, "udp:udp_fail_queue_rcv_skb", 2)

#define SKBTRAIL_PROBE_COUNT 15

/*
 * Kernel functions are probed when their struct sk_buff * is one of their first
 * SKBTRAIL_SKB_ARG_MAX arguments: skbtrail.bpf.c has a program per position for each kind
 * (kprobe_multi_skb_N, kprobe_skb_N, fentry_skb_N, fexit_skb_N).
 */
#define SKBTRAIL_SKB_ARG_MAX 5

/* The func_probes map's value: which probe a function address is, and how its return value reads. */
struct skbtrail_func_probe {
	__u16 probe; /* probe id; the function's fexit events take probe + 1 */
	__s8 ret;    /* the return type's size in bytes, negative when signed (-4: int); 0: void */
	__u8 pad;
};

/* Load-time settings, placed in .rodata (const volatile) between open and load. */
struct skbtrail_config {
	__u32 snaplen;      /* header bytes to capture, <= SKBTRAIL_SNAPLEN_MAX */
	__u32 output_stack; /* 1: record a kernel stack id per event */
	__u32 filter;       /* 1: a pcap filter was injected; record only the events it matches */
	/* pwru's --filter-* options (bpf/filters.h); all combine with AND, in the kernel. */
	__u32 filter_netns;     /* nonzero: only skbs in the network namespace of this inode */
	__u32 filter_mark;      /* only skbs with (mark & filter_mark_mask) == filter_mark ... */
	__u32 filter_mark_mask; /* ... when this is nonzero */
	__u32 filter_ifindex;   /* nonzero: only skbs whose device has this ifindex (in filter_netns) */
	__u32 track_skb;        /* 1: an skb that matched once is recorded until freed (bpf/track.h) */
	__u32 output_skb;       /* 1: every event carries the raw struct sk_buff (skb_len bytes) */
	__u32 output_caller;    /* 1: a stack id for events that carry no location (the caller is in it) */
};

/* Upper bound of the raw struct sk_buff bytes an event carries (224 on 6.18). */
#define SKBTRAIL_SKB_MAX 512

/*
 * pcap-filter injection (see bpf/pcap_filter.h). A compiled expression runs as eBPF code
 * that the loader splices into every program in place of a marker: a 64-bit immediate
 * load of SKBTRAIL_FILTER_MARK_L2 (filter on bytes from the mac header) or _L3 (from
 * the network header). Its contract:
 *   in:  r1 = struct skbtrail_filter_buf * (bytes + scratch memory of the classic BPF
 *        program), r2 = bytes valid in buf->bytes (<= SKBTRAIL_FILTER_BYTES),
 *        r3 = the packet's length on the wire at that layer (classic BPF's "len");
 *   out: r0 = the classic BPF return value (0: no match); r1-r5 clobbered.
 * The filter sees at most SKBTRAIL_FILTER_BYTES of linear header bytes, whatever the
 * snaplen: a load beyond them is "no match", like classic BPF on a short capture.
 */
#define SKBTRAIL_FILTER_BYTES 256
#define SKBTRAIL_FILTER_MEMWORDS 16
/* Written without a suffix: the BPF placeholder pastes them into inline assembly. */
#define SKBTRAIL_FILTER_MARK_L2 0x736b62744c32f117
#define SKBTRAIL_FILTER_MARK_L3 0x736b62744c33f117

struct skbtrail_filter_buf {
	__u8 bytes[SKBTRAIL_FILTER_BYTES];     /* packet bytes from the filter's layer */
	__u32 mem[SKBTRAIL_FILTER_MEMWORDS]; /* classic BPF scratch memory M[] */
};

/*
 * One event. Fixed part first; `cap_len` bytes of packet headers follow it in the
 * ring-buffer record, then `skb_len` bytes of the struct sk_buff itself (the record is
 * sizeof(struct skbtrail_event) + cap_len + skb_len bytes).
 * Header bytes start at the mac header when the skb has one, else at the network
 * header; net_off/trans_off are offsets into those bytes (SKBTRAIL_OFF_NONE: unknown).
 */
struct skbtrail_event {
	__u64 ts;        /* bpf_ktime_get_ns(): CLOCK_MONOTONIC ns */
	__u64 skb;       /* struct sk_buff address */
	__u64 location;  /* kfree_skb/consume_skb: caller address; else 0 */
	__s64 retval;    /* fexit: the function's return value; else 0 */
	__u32 pid;       /* thread group id of the current task */
	__u32 netns;     /* inode of the skb's netns (dev's, else sk's); 0 unknown */
	__u32 ifindex;   /* skb->dev->ifindex, 0 when no device */
	__u32 mark;      /* skb->mark */
	__u32 len;       /* skb->len */
	__u32 mtu;       /* skb->dev->mtu, 0 when no device */
	__u32 reason;    /* kfree_skb drop reason (enum skb_drop_reason); 0 otherwise */
	__s32 stack_id;  /* stack map id, negative when not recorded */
	__u16 probe;     /* probe table id */
	__u16 protocol;  /* skb->protocol in host byte order (ETH_P_*) */
	__u16 cpu;       /* bpf_get_smp_processor_id() */
	__u16 cap_len;   /* header bytes following this struct */
	__u16 net_off;   /* network header offset in the captured bytes */
	__u16 trans_off; /* transport header offset in the captured bytes */
	__u8 has_mac;    /* 1: captured bytes start at the mac header */
	__u8 pkt_type;   /* skb->pkt_type */
	__u16 skb_len;   /* raw struct sk_buff bytes following the header bytes (output_skb); else 0 */
	char comm[SKBTRAIL_COMM_LEN];
};

#ifdef __cplusplus /* the addon includes this header too; C++ spells the assertion static_assert */
#define SKBTRAIL_STATIC_ASSERT static_assert
#else
#define SKBTRAIL_STATIC_ASSERT _Static_assert
#endif
SKBTRAIL_STATIC_ASSERT(sizeof(struct skbtrail_event) == 96, "skbtrail_event layout changed: update the addon and docs/format.md");

#endif
