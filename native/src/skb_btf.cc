#include "skb_btf.h"

#include <cerrno>
#include <map>
#include <set>
#include <vector>

#include "errors.h"

namespace skb_btf {

namespace {

// Which types of src the closure keeps: `full` ones as they are, `fwd` ones (structs and
// unions reached only through a pointer) as forward declarations.
class Closure {
 public:
  explicit Closure(const btf* src) : src_(src) {}

  void Visit(uint32_t id, bool behindPointer) {
    if (id == 0) return;  // void
    const btf_type* t = btf__type_by_id(src_, id);
    if (!t) return;
    if (btf_is_composite(t)) {
      if (behindPointer) {
        fwd_.insert(id);
        return;
      }
      if (!full_.insert(id).second) return;
      const btf_member* m = btf_members(t);
      for (int i = 0; i < btf_vlen(t); i++, m++) Visit(m->type, false);
      return;
    }
    if (!full_.insert(id).second) return;
    if (btf_is_ptr(t)) {
      Visit(t->type, true);
    } else if (btf_is_mod(t) || btf_is_typedef(t) || btf_is_type_tag(t)) {
      Visit(t->type, behindPointer);
    } else if (btf_is_array(t)) {
      Visit(btf_array(t)->type, behindPointer);
      Visit(btf_array(t)->index_type, false);
    } else if (btf_is_func_proto(t)) {
      Visit(t->type, true);
      const btf_param* p = btf_params(t);
      for (int i = 0; i < btf_vlen(t); i++, p++) Visit(p->type, true);
    }
    // int, enum, enum64, float, fwd: no references
  }

  // Every kept id, in src order, and whether it becomes a forward declaration.
  std::map<uint32_t, bool> Ids() const {
    std::map<uint32_t, bool> ids;
    for (uint32_t id : fwd_) ids[id] = true;
    for (uint32_t id : full_) ids[id] = false;  // embedded somewhere: the full type wins
    return ids;
  }

 private:
  const btf* src_;
  std::set<uint32_t> full_, fwd_;
};

// Points one type's references (copied verbatim from src) at their new ids.
void Remap(btf_type* t, const std::map<uint32_t, uint32_t>& ids) {
  auto at = [&](uint32_t* ref) {
    if (*ref == 0) return;
    auto it = ids.find(*ref);
    *ref = it == ids.end() ? 0 : it->second;  // unreachable: every reference was visited
  };
  if (btf_is_composite(t)) {
    btf_member* m = btf_members(t);
    for (int i = 0; i < btf_vlen(t); i++, m++) at(&m->type);
  } else if (btf_is_ptr(t) || btf_is_mod(t) || btf_is_typedef(t) || btf_is_type_tag(t)) {
    at(&t->type);
  } else if (btf_is_array(t)) {
    at(&btf_array(t)->type);
    at(&btf_array(t)->index_type);
  } else if (btf_is_func_proto(t)) {
    at(&t->type);
    btf_param* p = btf_params(t);
    for (int i = 0; i < btf_vlen(t); i++, p++) at(&p->type);
  }
}

}  // namespace

int ExtractStruct(const btf* src, const std::string& name, Extract* out) {
  int root = btf__find_by_name_kind(src, name.c_str(), BTF_KIND_STRUCT);
  if (root < 0) return -ENOENT;
  Closure closure(src);
  closure.Visit(root, false);

  btf* dst = btf__new_empty();
  if (!dst) return -errno;
  std::map<uint32_t, uint32_t> ids;  // src id -> dst id
  for (auto [id, fwd] : closure.Ids()) {
    const btf_type* t = btf__type_by_id(src, id);
    int added = fwd ? btf__add_fwd(dst, btf__name_by_offset(src, t->name_off), btf_is_union(t) ? BTF_FWD_UNION : BTF_FWD_STRUCT)
                    : btf__add_type(dst, src, t);
    if (added < 0) {
      btf__free(dst);
      return added;
    }
    ids[id] = added;
  }
  // No type is added from here on, so the types stay where they are while they are patched.
  for (auto [from, to] : ids) Remap(const_cast<btf_type*>(btf__type_by_id(dst, to)), ids);

  uint32_t size = 0;
  const auto* raw = static_cast<const uint8_t*>(btf__raw_data(dst, &size));
  if (!raw) {
    btf__free(dst);
    return -ENOMEM;
  }
  out->raw.assign(raw, raw + size);
  out->typeId = ids[root];
  out->size = static_cast<uint32_t>(btf__resolve_size(src, root));
  btf__free(dst);
  return 0;
}

Napi::Value SkbBtf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  btf* src = nullptr;
  std::string from = "the kernel's BTF";
  if (info[0].IsNull() || info[0].IsUndefined()) {
    src = btf__load_vmlinux_btf();
    if (!src) throw errors::KernelBtfMissing(env);
  } else {
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "btfPath must be a string or null");
    from = info[0].As<Napi::String>();
    src = btf__parse(from.c_str(), nullptr);
    if (!src) throw errors::FromErrno(env, errno, "reading BTF from " + from + " failed");
  }
  Extract extract;
  int err = ExtractStruct(src, "sk_buff", &extract);
  btf__free(src);
  if (err == -ENOENT) throw errors::Make(env, "ENOENT", ENOENT, from + " has no struct sk_buff");
  if (err) throw errors::FromErrno(env, -err, "extracting struct sk_buff from " + from + " failed");

  Napi::Object out = Napi::Object::New(env);
  auto bytes = Napi::Uint8Array::New(env, extract.raw.size());
  std::copy(extract.raw.begin(), extract.raw.end(), bytes.Data());
  out.Set("btf", bytes);
  out.Set("typeId", extract.typeId);
  out.Set("size", extract.size);
  return out;
}

}  // namespace skb_btf
