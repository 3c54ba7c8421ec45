// SPDX-License-Identifier: GPL-2.0
/*
 * skbtrail's kernel side: one tp_btf program per tracepoint of the probe table in
 * skbtrail.h. Each copies what the skb looks like at that point (device, netns, length,
 * header bytes) into a struct skbtrail_event and sends it through the `events` ring
 * buffer. Decoding happens in user space, later.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "skbtrail.h"
#include "pcap_filter.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader between open and load; the verifier prunes what is off. */
const volatile struct skbtrail_config CONFIG = {};

/* Probe ids by program name, taken from the probe table so they cannot drift. */
enum {
#define X(id, prog, tracepoint, skb_arg) PROBE_##prog = id,
	SKBTRAIL_TRACEPOINTS(X)
#undef X
};

#define STACK_DEPTH 127 /* the kernel's default perf_event_max_stack */
#define NEST_MAX 4      /* task, softirq, hardirq, NMI */
#define UNSET_OFF 0xffff /* mac/transport header offset of an skb that has none */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* the loader may resize it before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* Events that found the ring buffer full (or nested too deep), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct slot {
	struct skbtrail_event ev;
	/* Header bytes, sent right after ev; then the pcap filter's scratch memory. */
	struct skbtrail_filter_buf buf;
	/* Room for the raw struct sk_buff, copied right after the header bytes (output_skb). */
	__u8 skb_room[SKBTRAIL_SKB_MAX];
};
_Static_assert(__builtin_offsetof(struct slot, buf) == sizeof(struct skbtrail_event),
	       "header bytes must follow the event: they are sent with it");

/*
 * Events are built here because they are too big for the BPF stack. A program in
 * task context can be interrupted on its CPU by one in softirq, hardirq or NMI, so
 * each nesting level gets its own slot. Nesting is strictly last-in first-out, so a
 * plain (non-atomic) depth counter is enough: an interrupting program has finished
 * and restored `depth` before the interrupted one continues.
 */
struct scratch_area {
	__u32 depth;
	__u32 sent; /* events this CPU sent: paces the wakeups */
	struct slot slots[NEST_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch_area);
} scratch SEC(".maps");

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);

	if (n)
		*n += 1; /* per-CPU value: no other writer */
}

/*
 * The reader polls on a short timer anyway, so each CPU wakes it once per WAKE_EVERY
 * events: a wakeup per event costs both sides more than the event, and asking the ring
 * how full it is reads the consumer's position, a cache line the reader's CPU keeps
 * writing. A per-CPU count touches nothing shared.
 */
#define WAKE_EVERY 1024

static __always_inline __u64 wakeup_flag(__u32 *sent)
{
	return (++*sent & (WAKE_EVERY - 1)) == 0 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/*
 * A field of a kernel object. tp_btf programs get BTF-typed pointers and load fields
 * directly (the verifier checks each load); kprobe and fentry programs go through
 * bpf_probe_read_kernel, a helper call per field. `direct` is a constant at every call
 * site, so each program keeps one branch.
 */
#define FIELD(direct, ptr, field) ((direct) ? (ptr)->field : BPF_CORE_READ(ptr, field))

/* The skb's network namespace inode: its device's, else its socket's; 0 if neither. */
static __always_inline __u32 skb_netns(struct sk_buff *skb, struct net_device *dev, bool direct)
{
	struct net *net = NULL;
	struct sock *sk;

	if (dev)
		net = FIELD(direct, dev, nd_net.net);
	if (!net) {
		sk = FIELD(direct, skb, sk);
		if (sk)
			net = FIELD(direct, sk, __sk_common.skc_net.net);
	}
	return net ? FIELD(direct, net, ns.inum) : 0;
}

/*
 * Copy the linear header bytes: from the mac header when a link-layer header precedes
 * the network header, else from the network header (an L3 device such as a tunnel
 * sets the mac header equal to it). A network header offset of 0 means it is not set
 * yet (e.g. a TCP segment still in its socket's queue): then capture from the mac
 * header or skb->data and leave net_off unknown. Offsets are recorded even when they
 * point past the captured bytes; only unset ones become SKBTRAIL_OFF_NONE.
 * Copies at most `bound` bytes and returns how many; *wirelen gets the packet's length
 * from the first of them to its end (linear part and fragments).
 */
static __always_inline __u32 capture_headers(struct sk_buff *skb, struct slot *slot, __u32 bound, __u32 *wirelen, bool direct)
{
	struct skbtrail_event *ev = &slot->ev;
	unsigned char *head = FIELD(direct, skb, head);
	__u32 data_off = FIELD(direct, skb, data) - head;
	__u32 tail = FIELD(direct, skb, tail); /* an offset from head on 64-bit kernels */
	__u16 mac = FIELD(direct, skb, mac_header);
	__u16 nh = FIELD(direct, skb, network_header);
	__u16 th = FIELD(direct, skb, transport_header);
	__u32 start, cap;

	ev->len = FIELD(direct, skb, len); /* bytes from skb->data to the end */
	ev->has_mac = mac != UNSET_OFF && (nh > mac || !nh);
	if (ev->has_mac)
		start = mac;
	else if (nh)
		start = nh;
	else
		start = data_off;

	ev->net_off = (ev->has_mac || nh) && nh >= start ? nh - start : SKBTRAIL_OFF_NONE;
	ev->trans_off = th != UNSET_OFF && th >= start ? th - start : SKBTRAIL_OFF_NONE;
	*wirelen = ev->len + data_off - start;

	cap = tail > start ? tail - start : 0;
	if (cap > bound)
		cap = bound;
	/* Restate the bound right before the read so the verifier sees it. */
	if (cap > SKBTRAIL_SNAPLEN_MAX)
		cap = SKBTRAIL_SNAPLEN_MAX;
	if (cap && bpf_probe_read_kernel(slot->buf.bytes, cap, head + start))
		cap = 0;
	return cap;
}

/*
 * Whether the injected pcap filter matches the captured bytes: the link-layer filter
 * when they start at a mac header, the network-layer one when they start at the
 * network header, and no match when neither header is known.
 */
static __always_inline bool filter_matches(struct slot *slot, __u32 copied, __u32 wirelen)
{
	if (slot->ev.has_mac)
		return skbtrail_filter_l2(&slot->buf, copied, wirelen) != 0;
	if (slot->ev.net_off != SKBTRAIL_OFF_NONE)
		return skbtrail_filter_l3(&slot->buf, copied, wirelen) != 0;
	return false;
}

#include "filters.h"
#include "track.h"

/* The raw struct sk_buff (this kernel's size, from BTF) right after `cap` header bytes; returns its size, 0 if unreadable. */
static __always_inline __u32 copy_skb(struct sk_buff *skb, struct slot *slot, __u32 cap)
{
	__u32 size = bpf_core_type_size(struct sk_buff);

	if (size > SKBTRAIL_SKB_MAX)
		size = SKBTRAIL_SKB_MAX;
	if (cap > SKBTRAIL_SNAPLEN_MAX)
		cap = SKBTRAIL_SNAPLEN_MAX;
	if (bpf_probe_read_kernel(slot->buf.bytes + cap, size, skb))
		return 0;
	return size;
}

/*
 * Returns whether the event was recorded (it passed the filters and found room).
 * direct: skb is a BTF-typed pointer (tp_btf), see FIELD.
 */
static __always_inline bool record(void *ctx, __u16 probe, struct sk_buff *skb,
				   __u32 reason, __u64 location, bool direct)
{
	__u32 zero = 0, depth, copied, cap, wirelen, skb_len = 0;
	bool tracked, recorded = false;
	__u32 snaplen = CONFIG.snaplen;
	struct scratch_area *area;
	struct skbtrail_event *ev;
	struct net_device *dev;
	struct slot *slot;

	if (!skb)
		return false;
	area = bpf_map_lookup_elem(&scratch, &zero);
	if (!area)
		return false;
	depth = area->depth;
	if (depth >= NEST_MAX) {
		count_lost();
		return false;
	}
	area->depth = depth + 1;
	slot = &area->slots[depth & (NEST_MAX - 1)];
	ev = &slot->ev;

	if (snaplen > SKBTRAIL_SNAPLEN_MAX)
		snaplen = SKBTRAIL_SNAPLEN_MAX;
	/* A tracked skb (--filter-track-skb) bypasses every filter, like pwru's. */
	tracked = track_has(skb);
	if (!tracked && !meta_matches(skb, direct))
		goto out;
	/*
	 * Headers first, so a packet the filter rejects costs only this copy and the filter.
	 * The filter sees every linear header byte up to its bound, whatever the snaplen.
	 */
	copied = capture_headers(skb, slot, CONFIG.filter && !tracked ? SKBTRAIL_FILTER_BYTES : snaplen, &wirelen, direct);
	if (CONFIG.filter && !tracked && !filter_matches(slot, copied, wirelen))
		goto out;
	if (!tracked)
		track_add(skb);
	cap = copied < snaplen ? copied : snaplen;

	ev->ts = bpf_ktime_get_ns();
	ev->skb = (__u64)skb;
	ev->location = location;
	ev->retval = 0;
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	ev->probe = probe;
	ev->reason = reason;

	dev = FIELD(direct, skb, dev);
	ev->netns = skb_netns(skb, dev, direct);
	ev->ifindex = dev ? FIELD(direct, dev, ifindex) : 0;
	ev->mtu = dev ? FIELD(direct, dev, mtu) : 0;
	ev->mark = FIELD(direct, skb, mark);
	ev->protocol = bpf_ntohs(FIELD(direct, skb, protocol));
	ev->pkt_type = direct ? BPF_CORE_READ_BITFIELD(skb, pkt_type) : BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);
	/* --output-caller: the caller of a free is its location; any other's is in its stack. */
	ev->stack_id = CONFIG.output_stack || (CONFIG.output_caller && !location) ? bpf_get_stackid(ctx, &stacks, 0) : -1;

	/* Restate the bound right before the output so the verifier sees it. */
	if (cap > SKBTRAIL_SNAPLEN_MAX)
		cap = SKBTRAIL_SNAPLEN_MAX;
	ev->cap_len = cap;
	if (CONFIG.output_skb)
		skb_len = copy_skb(skb, slot, cap);
	if (skb_len > SKBTRAIL_SKB_MAX)
		skb_len = SKBTRAIL_SKB_MAX;
	ev->skb_len = skb_len;
	if (bpf_ringbuf_output(&events, slot, sizeof(*ev) + cap + skb_len, wakeup_flag(&area->sent)))
		count_lost();
	else
		recorded = true;
out:
	area->depth = depth;
	return recorded;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(tp_kfree_skb, struct sk_buff *skb, void *location)
{
	/* The reason argument came with enum skb_drop_reason (5.17); before it, reading ctx[2] fails to load. */
	__u32 reason = bpf_core_type_exists(enum skb_drop_reason) ? (__u32)ctx[2] : 0;

	record(ctx, PROBE_kfree_skb, skb, reason, (__u64)location, true);
	track_forget(skb);
	return 0;
}

SEC("tp_btf/consume_skb")
int BPF_PROG(tp_consume_skb, struct sk_buff *skb)
{
	/* The location argument came (6.3) with the event's location field; before it, reading ctx[1] fails to load. */
	__u64 location = bpf_core_field_exists(struct trace_event_raw_consume_skb, location) ? ctx[1] : 0;

	record(ctx, PROBE_consume_skb, skb, 0, location, true);
	track_forget(skb);
	return 0;
}

/* A tracepoint recorded for its skb alone; the arguments are listed up to the skb. */
#define TRACE_SKB(name, ...)                                                      \
	SEC("tp_btf/" #name)                                                      \
	int BPF_PROG(tp_##name, __VA_ARGS__)                                      \
	{                                                                         \
		record(ctx, PROBE_##name, (struct sk_buff *)skb, 0, 0, true);     \
		return 0;                                                         \
	}

TRACE_SKB(skb_copy_datagram_iovec, const struct sk_buff *skb)
TRACE_SKB(net_dev_queue, struct sk_buff *skb)
TRACE_SKB(net_dev_start_xmit, const struct sk_buff *skb)
TRACE_SKB(net_dev_xmit, struct sk_buff *skb)
TRACE_SKB(netif_rx, struct sk_buff *skb)
TRACE_SKB(netif_receive_skb, struct sk_buff *skb)
TRACE_SKB(napi_gro_receive_entry, const struct sk_buff *skb)
TRACE_SKB(netif_receive_skb_entry, const struct sk_buff *skb)
TRACE_SKB(qdisc_enqueue, struct Qdisc *q, const struct netdev_queue *txq, struct sk_buff *skb)
TRACE_SKB(qdisc_dequeue, struct Qdisc *q, const struct netdev_queue *txq, int packets, struct sk_buff *skb)
TRACE_SKB(tcp_retransmit_skb, const struct sock *sk, const struct sk_buff *skb)
TRACE_SKB(tcp_send_reset, const struct sock *sk, const struct sk_buff *skb)
TRACE_SKB(udp_fail_queue_rcv_skb, int rc, struct sock *sk, struct sk_buff *skb)

/*
 * Kernel functions taking a struct sk_buff * (found in BTF by the recorder): one program
 * per position of that argument, 1 to SKBTRAIL_SKB_ARG_MAX. A kprobe-multi link, or one
 * kprobe link per function, attaches the same program to every function with its skb at
 * that position; fentry/fexit programs are templates the loader copies once per function.
 * Either way the program learns which function it runs in from its address. They load
 * only when the recorder asks ("?": autoload off), since fentry/fexit need a target first.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized by the loader: one entry per function address */
	__type(key, __u64);     /* the function's address (kallsyms) */
	__type(value, struct skbtrail_func_probe);
} func_probes SEC(".maps");

/* A call whose entry was recorded (fentry), so its return is too. */
struct call_key {
	__u64 skb;
	__u64 probe; /* the fentry probe id */
};

/* Calls in flight; an LRU, so a return never seen (a detach mid-call) ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct call_key);
	__type(value, __u8);
} calls SEC(".maps");

static __always_inline struct skbtrail_func_probe *func_probe(void *ctx)
{
	__u64 ip = bpf_get_func_ip(ctx);

	return bpf_map_lookup_elem(&func_probes, &ip);
}

static __always_inline int record_entry(void *ctx, struct sk_buff *skb, bool remember)
{
	struct skbtrail_func_probe *fp = func_probe(ctx);
	struct call_key call = { .skb = (__u64)skb };
	__u8 one = 1;

	if (!fp)
		return 0;
	call.probe = fp->probe;
	if (record(ctx, fp->probe, skb, 0, 0, false) && remember)
		bpf_map_update_elem(&calls, &call, &one, BPF_ANY);
	return 0;
}

/* The return register holds more than the return type: keep its bytes, extended by its sign. */
static __always_inline __s64 narrow_return(__u64 reg, __s8 ret)
{
	switch (ret) {
	case -1: return (__s8)reg;
	case 1: return (__u8)reg;
	case -2: return (__s16)reg;
	case 2: return (__u16)reg;
	case -4: return (__s32)reg;
	case 4: return (__u32)reg;
	case 0: return 0;
	default: return reg;
	}
}

/*
 * A function's return, recorded when its entry was (so the filters apply). Only the return
 * value and who returned: the function may have freed the skb, so its fields are not read.
 */
static __always_inline int record_return(void *ctx, struct sk_buff *skb)
{
	struct skbtrail_func_probe *fp = func_probe(ctx);
	struct call_key call = { .skb = (__u64)skb };
	struct skbtrail_event ev = {};
	struct scratch_area *area;
	__u64 retval = 0;
	__u32 zero = 0;

	if (!fp)
		return 0;
	call.probe = fp->probe;
	if (!bpf_map_lookup_elem(&calls, &call))
		return 0;
	bpf_map_delete_elem(&calls, &call);
	bpf_get_func_ret(ctx, &retval);
	ev.ts = bpf_ktime_get_ns();
	ev.skb = (__u64)skb;
	ev.retval = narrow_return(retval, fp->ret);
	ev.pid = bpf_get_current_pid_tgid() >> 32;
	ev.cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(ev.comm, sizeof(ev.comm));
	ev.probe = fp->probe + 1;
	ev.stack_id = -1;
	ev.net_off = SKBTRAIL_OFF_NONE;
	ev.trans_off = SKBTRAIL_OFF_NONE;
	area = bpf_map_lookup_elem(&scratch, &zero);
	if (!area)
		return 0;
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), wakeup_flag(&area->sent)))
		count_lost();
	return 0;
}

#define FUNC_PROGRAMS(n)                                                                  \
	SEC("?kprobe.multi")                                                              \
	int kprobe_multi_skb_##n(struct pt_regs *ctx)                                     \
	{                                                                                 \
		return record_entry(ctx, (struct sk_buff *)PT_REGS_PARM##n(ctx), false);  \
	}                                                                                 \
	SEC("?kprobe")                                                                    \
	int kprobe_skb_##n(struct pt_regs *ctx)                                           \
	{                                                                                 \
		return record_entry(ctx, (struct sk_buff *)PT_REGS_PARM##n(ctx), false);  \
	}                                                                                 \
	SEC("?fentry")                                                                    \
	int fentry_skb_##n(__u64 *ctx)                                                    \
	{                                                                                 \
		return record_entry(ctx, (struct sk_buff *)ctx[n - 1], true);             \
	}                                                                                 \
	SEC("?fexit")                                                                     \
	int fexit_skb_##n(__u64 *ctx)                                                     \
	{                                                                                 \
		return record_return(ctx, (struct sk_buff *)ctx[n - 1]);                  \
	}

FUNC_PROGRAMS(1)
FUNC_PROGRAMS(2)
FUNC_PROGRAMS(3)
FUNC_PROGRAMS(4)
FUNC_PROGRAMS(5)

/*
 * tc BPF programs (--filter-trace-tc), copied once per program like fentry_skb_N. The
 * verifier hands a tracing program the target's struct __sk_buff * as the struct sk_buff *
 * it really is; fexit's return value is the program's verdict (TC_ACT_*).
 */
SEC("?fentry")
int fentry_tc(__u64 *ctx)
{
	return record_entry(ctx, (struct sk_buff *)ctx[0], true);
}

SEC("?fexit")
int fexit_tc(__u64 *ctx)
{
	return record_return(ctx, (struct sk_buff *)ctx[0]);
}
