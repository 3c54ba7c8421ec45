// Splicing a translated pcap filter into BPF programs before load (see bpf/pcap_filter.h
// for the placeholder and bpf/skbtrail.h for the register contract).
#pragma once

#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace filter_inject {

enum class Layer { L2, L3 };

uint64_t Marker(Layer layer);

// 'l2' | 'l3'; throws TypeError otherwise.
Layer LayerArg(const Napi::CallbackInfo& info, size_t i);

// The filter body from a Uint8Array of struct bpf_insn. Checks what the splice relies
// on: whole instructions, no calls, exits or 64-bit immediates, and every jump landing
// inside the body or on its end. Throws Napi::Error code EINVAL otherwise.
std::vector<bpf_insn> BodyArg(const Napi::CallbackInfo& info, size_t i);

// The body that matches nothing: r0 = 0.
std::vector<bpf_insn> RejectAll();

// Replaces every placeholder of `layer` in prog with a jump to a copy of body appended
// after the program's instructions, which returns to the placeholder. Before load only.
// Returns how many placeholders were patched, or -errno with *error set.
int Inject(bpf_program* prog, Layer layer, const std::vector<bpf_insn>& body, std::string* error);

// filterTestRun(objPath, layer, insns, packets, offsets, wirelens) -> Uint32Array of the
// filter's return values, one BPF_PROG_TEST_RUN of bpf/filter_test.bpf.c per packet.
Napi::Value TestRun(const Napi::CallbackInfo& info);

}  // namespace filter_inject
