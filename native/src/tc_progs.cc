#include "tc_progs.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <unistd.h>

namespace tc_progs {

int MainFuncTypeId(int progFd, std::string* name) {
  bpf_func_info func = {};
  bpf_prog_info info = {};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(progFd, &info, &len) || !info.btf_id || !info.nr_func_info) return -1;
  // The first func_info record is the main function (the entry point).
  __u32 btfId = info.btf_id;
  info = {};
  info.nr_func_info = 1;
  info.func_info_rec_size = sizeof(func);
  info.func_info = reinterpret_cast<__u64>(&func);
  len = sizeof(info);
  if (bpf_obj_get_info_by_fd(progFd, &info, &len)) return -1;
  btf* types = btf__load_from_kernel_by_id(btfId);
  if (!types) return -1;
  const btf_type* t = btf__type_by_id(types, func.type_id);
  if (t) *name = btf__name_by_offset(types, t->name_off);
  btf__free(types);
  return t ? static_cast<int>(func.type_id) : -1;
}

std::vector<TcProg> List() {
  std::vector<TcProg> progs;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;  // unloaded since listed
    __u64 addr = 0;
    bpf_prog_info info = {};
    info.nr_jited_ksyms = 1;
    info.jited_ksyms = reinterpret_cast<__u64>(&addr);
    __u32 len = sizeof(info);
    std::string func;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == BPF_PROG_TYPE_SCHED_CLS &&
        MainFuncTypeId(fd, &func) >= 0)
      progs.push_back({id, info.name, func, addr});
    close(fd);
  }
  return progs;
}

Napi::Value ListBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto progs = List();
  Napi::Array out = Napi::Array::New(env, progs.size());
  for (size_t i = 0; i < progs.size(); i++) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("id", progs[i].id);
    p.Set("name", progs[i].name);
    p.Set("func", progs[i].func);
    p.Set("addr", Napi::BigInt::New(env, static_cast<uint64_t>(progs[i].addr)));
    out.Set(i, p);
  }
  return out;
}

}  // namespace tc_progs
