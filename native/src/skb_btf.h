// The BTF a recording needs to print its raw struct sk_buff bytes offline (--output-skb):
// struct sk_buff and every type it embeds, cut out of the kernel's BTF. A struct or union
// seen only behind a pointer becomes a forward declaration, so the blob stays small (a few
// KB) instead of pulling in half the kernel.
#pragma once

#include <bpf/btf.h>
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace skb_btf {

struct Extract {
  std::vector<uint8_t> raw;  // a standalone BTF blob (header, types, strings)
  uint32_t typeId = 0;       // struct sk_buff's id in it
  uint32_t size = 0;         // sizeof(struct sk_buff) in that kernel
};

// The closure of struct `name` in src; returns a negative errno (-ENOENT: no such struct).
int ExtractStruct(const btf* src, const std::string& name, Extract* out);

// skbBtf(btfPath | null): { btf: Uint8Array, typeId, size } for struct sk_buff.
Napi::Value SkbBtf(const Napi::CallbackInfo& info);

}  // namespace skb_btf
