/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Placeholders for an injected pcap filter, for BPF programs only (inline assembly).
 *
 * Each call site inlines a 64-bit immediate load of a marker (two instruction slots).
 * Before load, the addon finds the marker in the program's instructions, appends the
 * translated filter after the program's last instruction (so no instruction libbpf
 * relocates moves) and turns the marker into `goto filter; goto +0`: the filter runs and
 * jumps back to the second slot, which falls through to the code after the placeholder.
 * A program left unpatched gets the marker itself as its "return value" (nonzero:
 * everything matches), which is why callers only run the placeholder when
 * CONFIG.filter says a filter was injected; with no filter the verifier prunes it.
 *
 * The register contract is in skbtrail.h. r1-r5 are declared clobbered, so the compiler
 * keeps the operands and everything live across the placeholder in r6-r9 or on the stack.
 */
#ifndef SKBTRAIL_PCAP_FILTER_H
#define SKBTRAIL_PCAP_FILTER_H

#include "skbtrail.h"

#define SKBTRAIL_STR_(x) #x
#define SKBTRAIL_STR(x) SKBTRAIL_STR_(x)

#define SKBTRAIL_FILTER_PLACEHOLDER(name, marker)                                               \
	static __always_inline __u64 name(struct skbtrail_filter_buf *buf, __u32 caplen, __u32 wirelen) \
	{                                                                                       \
		__u64 ret, avail = caplen < SKBTRAIL_FILTER_BYTES ? caplen : SKBTRAIL_FILTER_BYTES; \
		asm volatile("r1 = %[buf]\n\t"                                                  \
			     "r2 = %[avail]\n\t"                                                \
			     "r3 = %[wire]\n\t"                                                 \
			     "r0 = " SKBTRAIL_STR(marker) " ll\n\t"                             \
			     "%[ret] = r0\n\t"                                                  \
			     : [ret] "=r"(ret)                                                  \
			     : [buf] "r"(buf), [avail] "r"(avail), [wire] "r"((__u64)wirelen)   \
			     : "r0", "r1", "r2", "r3", "r4", "r5", "memory");                   \
		return ret;                                                                     \
	}

/* Filter on bytes starting at the link-layer (Ethernet) header. */
SKBTRAIL_FILTER_PLACEHOLDER(skbtrail_filter_l2, SKBTRAIL_FILTER_MARK_L2)
/* Filter on bytes starting at the network (IPv4/IPv6) header. */
SKBTRAIL_FILTER_PLACEHOLDER(skbtrail_filter_l3, SKBTRAIL_FILTER_MARK_L3)

#endif
