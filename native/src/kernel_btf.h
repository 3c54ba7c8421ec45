// Questions answered from the kernel's BTF: enum values (drop reasons) and whether a
// tracepoint has the shape a program was built for.
#pragma once

#include <bpf/btf.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kernel_btf {

inline constexpr const char* kVmlinuxPath = "/sys/kernel/btf/vmlinux";

struct EnumValue {
  std::string name;
  int64_t value;
};

// Values of the enum (or enum64) named enumName; false when BTF has no such enum.
bool EnumValues(const btf* btf, const std::string& enumName, std::vector<EnumValue>* out);

// Why the tracepoint can't feed a program that reads its skb from argument skbArg:
// empty when it can, else a reason ("not in this kernel", ...).
std::string TracepointMismatch(const btf* vmlinux, const std::string& tracepoint, int skbArg);

}  // namespace kernel_btf
