// libpcap, for pcap-filter expressions: compile one to classic BPF, or run libpcap's own
// interpreter over packets (the reference the translated eBPF is tested against).
// libpcap's struct bpf_insn (classic) clashes with the kernel's (eBPF), so this file's
// implementation never sees libbpf's headers and vice versa.
#pragma once

#include <napi.h>

namespace pcap_expr {

// pcapCompile(expr, linktype: 'ether' | 'raw', snaplen) -> Uint8Array of struct sock_filter.
Napi::Value Compile(const Napi::CallbackInfo& info);

// pcapOfflineMatch(expr, linktype, packets: Uint8Array, offsets: Uint32Array (n + 1),
// wirelens: Uint32Array (n)) -> Uint32Array of pcap_offline_filter results.
Napi::Value OfflineMatch(const Napi::CallbackInfo& info);

}  // namespace pcap_expr
