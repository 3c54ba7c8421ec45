/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pwru's metadata filters, checked in the kernel before anything is copied: --filter-netns
 * (the skb's network namespace: its device's, else its socket's), --filter-mark (skb->mark
 * under a mask) and --filter-ifname (skb->dev's ifindex; the recorder resolves the name in
 * the namespace it also puts in filter_netns). They combine with AND, with each other and
 * with the pcap filter. Settings come from CONFIG (rodata): with a filter off its check is
 * pruned by the verifier. For skbtrail.bpf.c only, included after CONFIG, FIELD and skb_netns().
 */
#ifndef SKBTRAIL_FILTERS_H
#define SKBTRAIL_FILTERS_H

/* Whether the skb passes every metadata filter that is on. */
static __always_inline bool meta_matches(struct sk_buff *skb, bool direct)
{
	struct net_device *dev;

	if (!CONFIG.filter_netns && !CONFIG.filter_mark_mask && !CONFIG.filter_ifindex)
		return true;
	if (CONFIG.filter_mark_mask && (FIELD(direct, skb, mark) & CONFIG.filter_mark_mask) != CONFIG.filter_mark)
		return false;
	dev = FIELD(direct, skb, dev);
	if (CONFIG.filter_ifindex && (!dev || FIELD(direct, dev, ifindex) != CONFIG.filter_ifindex))
		return false;
	if (CONFIG.filter_netns && skb_netns(skb, dev, direct) != CONFIG.filter_netns)
		return false;
	return true;
}

#endif
