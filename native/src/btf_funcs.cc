#include "btf_funcs.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "errors.h"

namespace btf_funcs {
namespace {

const btf_type* Resolved(const btf* btf, __u32 id) {
  // Skips typedefs and const/volatile/restrict; type 0 (void) stays null.
  int real = btf__resolve_type(btf, id);
  return real > 0 ? btf__type_by_id(btf, real) : nullptr;
}

bool IsSkbPointer(const btf* btf, __u32 typeId) {
  const btf_type* t = Resolved(btf, typeId);
  if (!t || !btf_is_ptr(t)) return false;
  const btf_type* pointee = Resolved(btf, t->type);
  return pointee && btf_is_struct(pointee) && strcmp(btf__name_by_offset(btf, pointee->name_off), "sk_buff") == 0;
}

// Whether an argument of this type takes more than one register (a struct or integer
// wider than 8 bytes), which would shift every later argument's register.
bool TakesSeveralRegisters(const btf* btf, __u32 typeId) { return btf__resolve_size(btf, typeId) > 8; }

// How fexit reads the return value: its size, negative for signed integers and enums.
int ReturnShape(const btf* btf, __u32 typeId) {
  const btf_type* t = Resolved(btf, typeId);
  if (!t) return 0;
  __s64 size = btf__resolve_size(btf, typeId);
  if (size != 1 && size != 2 && size != 4) return 8;  // pointers, longs, and what can't be narrowed
  bool isSigned = (btf_is_int(t) && (btf_int_encoding(t) & BTF_INT_SIGNED)) || (btf_is_enum(t) && btf_kflag(t));
  return isSigned ? -static_cast<int>(size) : static_cast<int>(size);
}

using BtfPtr = std::unique_ptr<btf, decltype(&btf__free)>;

BtfPtr Parse(Napi::Env env, const std::string& path, const btf* base) {
  btf* parsed = base ? btf__parse_split(path.c_str(), const_cast<btf*>(base)) : btf__parse(path.c_str(), nullptr);
  if (!parsed) throw errors::FromErrno(env, errno, "reading BTF from " + path + " failed");
  return BtfPtr(parsed, btf__free);
}

std::string OptionalString(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return "";
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a string");
  return v.As<Napi::String>();
}

}  // namespace

std::vector<SkbFunc> SkbFuncs(const btf* btf, int firstId) {
  std::vector<SkbFunc> out;
  std::unordered_set<std::string> seen;
  int count = btf__type_cnt(btf);
  for (int id = firstId; id < count; id++) {
    const btf_type* fn = btf__type_by_id(btf, id);
    if (!btf_is_func(fn)) continue;
    const btf_type* proto = btf__type_by_id(btf, fn->type);
    if (!proto || !btf_is_func_proto(proto)) continue;
    const btf_param* params = btf_params(proto);
    int n = btf_vlen(proto) < SKBTRAIL_SKB_ARG_MAX ? btf_vlen(proto) : SKBTRAIL_SKB_ARG_MAX;
    for (int i = 0; i < n; i++) {
      if (IsSkbPointer(btf, params[i].type)) {
        std::string name = btf__name_by_offset(btf, fn->name_off);
        if (seen.insert(name).second) out.push_back({name, i + 1, ReturnShape(btf, proto->type)});
        break;
      }
      if (TakesSeveralRegisters(btf, params[i].type)) break;
    }
  }
  return out;
}

Napi::Value SkbFuncsBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "expected { btf?, moduleBtf? }");
  std::string kernelPath = OptionalString(info[0].As<Napi::Object>(), "btf");
  std::string modulePath = OptionalString(info[0].As<Napi::Object>(), "moduleBtf");

  BtfPtr kernel(nullptr, btf__free);
  if (kernelPath.empty()) {
    kernel.reset(btf__load_vmlinux_btf());
    if (!kernel) throw errors::KernelBtfMissing(env);
  } else {
    kernel = Parse(env, kernelPath, nullptr);
  }
  std::vector<SkbFunc> funcs;
  if (modulePath.empty()) {
    funcs = SkbFuncs(kernel.get(), 1);
  } else {
    BtfPtr module = Parse(env, modulePath, kernel.get());
    funcs = SkbFuncs(module.get(), btf__type_cnt(kernel.get()));
  }

  Napi::Array out = Napi::Array::New(env, funcs.size());
  for (size_t i = 0; i < funcs.size(); i++) {
    Napi::Object f = Napi::Object::New(env);
    f.Set("name", funcs[i].name);
    f.Set("skbArg", funcs[i].skbArg);
    f.Set("ret", funcs[i].ret);
    out.Set(i, f);
  }
  return out;
}

}  // namespace btf_funcs
