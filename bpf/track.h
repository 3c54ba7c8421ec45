/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * --filter-track-skb: once an skb matched the filters it is recorded at every probe, matching
 * or not (after NAT, encapsulation, header rewrites), until it is freed. Tracked skb addresses
 * live in a hash map whose bound the loader sets; a matching event whose skb finds the map full
 * leaves it untracked and is counted in track_overflow (per CPU; the skb's next matching event
 * tries again and counts again), which the recorder stores in the recording (EndMeta).
 * A backend calls track_forget() where an skb is freed (kfree_skb, consume_skb): an skb freed
 * where no probe sees it stays in the map until its address is reused, and the skb that gets
 * the address is recorded as if tracked. For skbtrail.bpf.c only, included after CONFIG.
 */
#ifndef SKBTRAIL_TRACK_H
#define SKBTRAIL_TRACK_H

#define SKBTRAIL_EEXIST 17

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* the loader sets the bound before load */
	__type(key, __u64);     /* struct sk_buff address */
	__type(value, __u8);
} tracked SEC(".maps");

/* skbs that matched but found the tracked map full, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} track_overflow SEC(".maps");

/* Whether the skb is tracked: then it bypasses every filter. */
static __always_inline bool track_has(struct sk_buff *skb)
{
	__u64 key = (__u64)skb;

	return CONFIG.track_skb && bpf_map_lookup_elem(&tracked, &key);
}

static __always_inline void track_add(struct sk_buff *skb)
{
	__u64 key = (__u64)skb;
	__u32 zero = 0;
	__u8 one = 1;
	__u64 *n;
	long err;

	if (!CONFIG.track_skb)
		return;
	err = bpf_map_update_elem(&tracked, &key, &one, BPF_NOEXIST);
	if (err && err != -SKBTRAIL_EEXIST) {
		n = bpf_map_lookup_elem(&track_overflow, &zero);
		if (n)
			*n += 1; /* per-CPU value: no other writer */
	}
}

static __always_inline void track_forget(struct sk_buff *skb)
{
	__u64 key = (__u64)skb;

	if (CONFIG.track_skb)
		bpf_map_delete_elem(&tracked, &key);
}

#endif
