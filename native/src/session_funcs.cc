// Session's kernel-function probes: the address -> probe id table, kprobe-multi and
// kprobe links, and fentry/fexit programs copied once per function (or tc BPF program).
//
// A fentry/fexit program is verified against one function and attaches only to it, so
// the object holds one template per skb argument position, loaded against the first
// function at that position; each function then gets a copy of the template's final
// instructions (CO-RE applied, map fds in place) loaded against its own BTF id. That
// avoids opening the object once per function and keeps one set of maps.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"
#include "libbpf_log.h"
#include "session.h"
#include "tc_progs.h"

namespace {

constexpr char kFuncProbesMap[] = "func_probes";
constexpr size_t kVerifierLogBytes = 1 << 20;

Napi::Error AttachError(Napi::Env env, int err, const std::string& what) {
  return errors::Make(env, "ATTACH", err, what + " failed: " + strerror(err), libbpf_log::Take());
}

}  // namespace

void Session::SetFuncProbes(Napi::Env env, std::vector<uint64_t> addrs, std::vector<skbtrail_func_probe> probes) {
  CheckOpen(env);
  if (loaded_) throw errors::Make(env, "EINVAL", EINVAL, "setFuncProbes() must come before load()");
  if (addrs.size() != probes.size()) throw errors::Make(env, "EINVAL", EINVAL, "addrs, ids and rets differ in length");
  int err = bpf_map__set_max_entries(Map(env, kFuncProbesMap), addrs.empty() ? 1 : addrs.size());
  if (err) throw errors::FromErrno(env, -err, "sizing the function probe table failed");
  funcAddrs_ = std::move(addrs);
  funcProbes_ = std::move(probes);
}

void Session::FillFuncProbes(Napi::Env env) {
  int fd = bpf_map__fd(Map(env, kFuncProbesMap));
  for (size_t i = 0; i < funcAddrs_.size(); i++)
    if (bpf_map_update_elem(fd, &funcAddrs_[i], &funcProbes_[i], BPF_ANY))
      throw errors::FromErrno(env, errno, "filling the function probe table failed");
}

void Session::SetAttachTarget(Napi::Env env, const std::string& program, const std::string& func) {
  CheckOpen(env);
  if (loaded_) throw errors::Make(env, "EINVAL", EINVAL, "setAttachTarget() must come before load()");
  int err = bpf_program__set_attach_target(Program(env, program), 0, func.c_str());
  if (err) throw errors::FromErrno(env, -err, "setting the attach target of " + program + " to " + func + " failed");
}

void Session::AttachKprobeMulti(Napi::Env env, const std::string& program, const std::vector<std::string>& funcs) {
  CheckLoaded(env);
  std::vector<const char*> syms;
  for (const auto& f : funcs) syms.push_back(f.c_str());
  LIBBPF_OPTS(bpf_kprobe_multi_opts, opts, .syms = syms.data(), .cnt = syms.size());
  libbpf_log::Clear();
  bpf_link* link = bpf_program__attach_kprobe_multi_opts(Program(env, program), nullptr, &opts);
  if (!link) {
    int err = errno;
    throw AttachError(env, err, "attaching " + program + " to " + std::to_string(funcs.size()) + " functions (kprobe-multi)");
  }
  links_.push_back(link);
}

void Session::AttachKprobe(Napi::Env env, const std::string& program, const std::string& func) {
  CheckLoaded(env);
  libbpf_log::Clear();
  bpf_link* link = bpf_program__attach_kprobe(Program(env, program), false, func.c_str());
  if (!link) {
    int err = errno;
    throw AttachError(env, err, "attaching a kprobe to " + func);
  }
  links_.push_back(link);
}

std::pair<int, int> Session::TracingTarget(Napi::Env env, const std::string& func, const std::string& module) {
  if (!vmlinuxBtf_ && !(vmlinuxBtf_ = btf__load_vmlinux_btf())) throw errors::KernelBtfMissing(env);
  if (module.empty()) return {0, btf__find_by_name_kind(vmlinuxBtf_, func.c_str(), BTF_KIND_FUNC)};

  auto found = moduleBtfs_.find(module);
  if (found == moduleBtfs_.end()) {
    // The kernel's BTF objects are listed by id; a module's carries the module's name.
    __u32 id = 0;
    while (found == moduleBtfs_.end() && bpf_btf_get_next_id(id, &id) == 0) {
      int fd = bpf_btf_get_fd_by_id(id);
      if (fd < 0) continue;
      char name[64] = "";
      bpf_btf_info info = {};
      info.name = reinterpret_cast<__u64>(name);
      info.name_len = sizeof(name);
      __u32 len = sizeof(info);
      btf* types = nullptr;
      if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.kernel_btf && module == name)
        types = btf__load_from_kernel_by_id_split(id, vmlinuxBtf_);
      if (types)
        found = moduleBtfs_.emplace(module, std::make_pair(fd, types)).first;
      else
        close(fd);
    }
    if (found == moduleBtfs_.end())
      throw errors::Make(env, "ENOENT", ENOENT, "no BTF for module " + module + " (is it loaded?)");
  }
  return {found->second.first, btf__find_by_name_kind(found->second.second, func.c_str(), BTF_KIND_FUNC)};
}

void Session::AttachTracing(Napi::Env env, const std::string& program, const std::string& func, const std::string& module) {
  CheckLoaded(env);
  auto [btfFd, btfId] = TracingTarget(env, func, module);
  if (btfId < 0) throw errors::Make(env, "ATTACH", ENOENT, func + " is not in the kernel's BTF");
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .attach_btf_id = static_cast<__u32>(btfId), .attach_btf_obj_fd = static_cast<__u32>(btfFd));
  LoadTracingCopy(env, program, &opts, func);
}

int Session::TargetProgFd(Napi::Env env, uint32_t progId) {
  auto found = targetProgs_.find(progId);
  if (found != targetProgs_.end()) return found->second;
  int fd = bpf_prog_get_fd_by_id(progId);
  if (fd < 0) throw errors::FromErrno(env, errno, "opening BPF program " + std::to_string(progId) + " failed");
  targetProgs_[progId] = fd;
  return fd;
}

void Session::SetAttachTargetProg(Napi::Env env, const std::string& program, uint32_t progId) {
  CheckOpen(env);
  if (loaded_) throw errors::Make(env, "EINVAL", EINVAL, "setAttachTargetProg() must come before load()");
  int fd = TargetProgFd(env, progId);
  std::string func;
  if (tc_progs::MainFuncTypeId(fd, &func) < 0)
    throw errors::Make(env, "EINVAL", EINVAL, "BPF program " + std::to_string(progId) + " has no BTF to attach to");
  int err = bpf_program__set_attach_target(Program(env, program), fd, func.c_str());
  if (err) throw errors::FromErrno(env, -err, "setting the attach target of " + program + " to " + func + " failed");
}

void Session::AttachTracingToProg(Napi::Env env, const std::string& program, uint32_t progId) {
  CheckLoaded(env);
  int fd = TargetProgFd(env, progId);
  std::string func;
  int typeId = tc_progs::MainFuncTypeId(fd, &func);
  if (typeId < 0) throw errors::Make(env, "ATTACH", ENOENT, "BPF program " + std::to_string(progId) + " has no BTF to attach to");
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .attach_btf_id = static_cast<__u32>(typeId), .attach_prog_fd = static_cast<__u32>(fd));
  LoadTracingCopy(env, program, &opts, "BPF program " + func);
}

void Session::LoadTracingCopy(Napi::Env env, const std::string& program, bpf_prog_load_opts* opts, const std::string& target) {
  bpf_program* templ = Program(env, program);
  if (bpf_program__fd(templ) < 0) throw errors::Make(env, "EINVAL", EINVAL, program + " was not loaded (setAutoload false)");
  opts->expected_attach_type = bpf_program__expected_attach_type(templ);
  auto load = [&] {
    return bpf_prog_load(BPF_PROG_TYPE_TRACING, bpf_program__name(templ), "GPL", bpf_program__insns(templ),
                         bpf_program__insn_cnt(templ), opts);
  };
  int prog = load();
  if (prog < 0) {
    int err = errno;
    // Loaded again only to learn why: the verifier's log costs time on success.
    std::string log(kVerifierLogBytes, '\0');
    opts->log_buf = log.data();
    opts->log_size = log.size();
    opts->log_level = 1;
    int again = load();
    if (again >= 0) close(again);
    log.resize(strlen(log.c_str()));
    throw errors::Make(env, "ATTACH", err, "loading " + program + " for " + target + " failed: " + strerror(err), log);
  }
  int link = bpf_raw_tracepoint_open(nullptr, prog);
  if (link < 0) {
    int err = errno;
    close(prog);
    throw errors::Make(env, "ATTACH", err, "attaching " + program + " to " + target + " failed: " + strerror(err));
  }
  tracingFds_.push_back(link);
  tracingFds_.push_back(prog);
}

void Session::CloseTracingCopies() {
  for (int fd : tracingFds_) close(fd);
  tracingFds_.clear();
}

void Session::ReleaseTargets() {
  for (auto& [module, fdAndTypes] : moduleBtfs_) {
    close(fdAndTypes.first);
    btf__free(fdAndTypes.second);
  }
  moduleBtfs_.clear();
  for (auto& [id, fd] : targetProgs_) close(fd);
  targetProgs_.clear();
  btf__free(vmlinuxBtf_);
  vmlinuxBtf_ = nullptr;
}
