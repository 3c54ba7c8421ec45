// Kernel functions that take a struct sk_buff *, found in BTF: what the kprobe,
// kprobe-multi and fentry backends attach to.
#pragma once

#include <bpf/btf.h>
#include <linux/types.h>
#include <napi.h>

#include <string>
#include <vector>

#include "skbtrail.h"

namespace btf_funcs {

struct SkbFunc {
  std::string name;
  int skbArg;  // 1-based position of the first struct sk_buff * argument, <= SKBTRAIL_SKB_ARG_MAX
  int ret;     // the return type's size in bytes, negative when signed; 0: void (skbtrail_func_probe.ret)
};

// Functions of btf whose type ids are at least firstId (a module's own types start after
// its base's), each once, in BTF order. A function whose skb argument follows one
// passed in more than one register is left out: its register position is not its index.
std::vector<SkbFunc> SkbFuncs(const btf* btf, int firstId);

// JS: btfSkbFuncs({ btf?, moduleBtf? }) (see native/index.d.ts).
Napi::Value SkbFuncsBinding(const Napi::CallbackInfo& info);

}  // namespace btf_funcs
