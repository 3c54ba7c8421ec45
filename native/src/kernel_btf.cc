#include "kernel_btf.h"

#include <cstring>

namespace kernel_btf {

bool EnumValues(const btf* btf, const std::string& enumName, std::vector<EnumValue>* out) {
  int id = btf__find_by_name_kind(btf, enumName.c_str(), BTF_KIND_ENUM);
  if (id < 0) id = btf__find_by_name_kind(btf, enumName.c_str(), BTF_KIND_ENUM64);
  if (id < 0) return false;

  const btf_type* t = btf__type_by_id(btf, id);
  int n = btf_vlen(t);
  out->clear();
  out->reserve(n);
  if (btf_is_enum(t)) {
    const struct btf_enum* e = btf_enum(t);
    bool isSigned = btf_kflag(t);  // kflag marks a signed enum
    for (int i = 0; i < n; i++, e++) {
      int64_t v = isSigned ? static_cast<int64_t>(static_cast<int32_t>(e->val)) : static_cast<uint32_t>(e->val);
      out->push_back({btf__name_by_offset(btf, e->name_off), v});
    }
  } else {
    const struct btf_enum64* e = btf_enum64(t);
    for (int i = 0; i < n; i++, e++)
      out->push_back({btf__name_by_offset(btf, e->name_off), static_cast<int64_t>(btf_enum64_value(e))});
  }
  return true;
}

std::string TracepointMismatch(const btf* vmlinux, const std::string& tracepoint, int skbArg) {
  // Every tracepoint has `typedef void (*btf_trace_<name>)(void *, args...)`.
  int id = btf__find_by_name_kind(vmlinux, ("btf_trace_" + tracepoint).c_str(), BTF_KIND_TYPEDEF);
  if (id < 0) return "not in this kernel";

  const btf_type* ptr = btf__type_by_id(vmlinux, btf__resolve_type(vmlinux, id));
  const btf_type* proto = ptr && btf_is_ptr(ptr) ? btf__type_by_id(vmlinux, ptr->type) : nullptr;
  if (!proto || !btf_is_func_proto(proto)) return "its BTF is not a tracepoint prototype";

  int arg = skbArg + 1;  // after the void * that every btf_trace_ prototype starts with
  if (btf_vlen(proto) <= arg) return "it has fewer arguments than skbtrail expects";

  const btf_type* argType = btf__type_by_id(vmlinux, btf__resolve_type(vmlinux, btf_params(proto)[arg].type));
  const btf_type* pointee = argType && btf_is_ptr(argType)
                                ? btf__type_by_id(vmlinux, btf__resolve_type(vmlinux, argType->type))
                                : nullptr;
  if (!pointee || !btf_is_struct(pointee) || strcmp(btf__name_by_offset(vmlinux, pointee->name_off), "sk_buff") != 0)
    return "its argument " + std::to_string(skbArg) + " is not a struct sk_buff *";
  return "";
}

}  // namespace kernel_btf
