#include "backend_probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace backend_probe {
namespace {

const char kKprobePmuType[] = "/sys/bus/event_source/devices/kprobe/type";

// Closes an fd when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

Verdict Failed(const std::string& step, int err) { return {false, err, step + ": " + strerror(err)}; }

// r0 = 0; exit: valid for every program type probed here.
int LoadNop(bpf_prog_type type, bpf_attach_type expected, __u32 attachBtfId) {
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = expected, .attach_btf_id = attachBtfId);
  int fd = bpf_prog_load(type, "skbtrail_probe", "GPL", insns, 2, &opts);
  return fd < 0 ? -errno : fd;
}

Verdict ProbeKprobe(const std::string& func) {
  std::ifstream typeFile(kKprobePmuType);
  int pmuType = -1;
  if (!(typeFile >> pmuType)) return Failed(std::string("no kprobe perf PMU (") + kKprobePmuType + ")", ENOENT);
  Fd prog{LoadNop(BPF_PROG_TYPE_KPROBE, static_cast<bpf_attach_type>(0), 0)};  // a plain kprobe has none
  if (prog.fd < 0) return Failed("loading a kprobe program", -prog.fd);

  perf_event_attr attr = {};
  attr.size = sizeof(attr);
  attr.type = pmuType;
  attr.config1 = reinterpret_cast<__u64>(func.c_str());  // kprobe_func
  Fd event{static_cast<int>(syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC))};
  if (event.fd < 0) return Failed("creating a kprobe on " + func, errno);
  Fd link{bpf_link_create(prog.fd, event.fd, BPF_PERF_EVENT, nullptr)};
  if (link.fd < 0) return Failed("attaching a program to a kprobe", errno);
  return {true, 0, ""};
}

Verdict ProbeKprobeMulti(const std::string& func) {
  Fd prog{LoadNop(BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, 0)};
  if (prog.fd < 0) return Failed("loading a kprobe.multi program", -prog.fd);
  const char* syms[] = {func.c_str()};
  LIBBPF_OPTS(bpf_link_create_opts, opts);
  opts.kprobe_multi.syms = syms;
  opts.kprobe_multi.cnt = 1;
  Fd link{bpf_link_create(prog.fd, 0, BPF_TRACE_KPROBE_MULTI, &opts)};
  if (link.fd < 0) return Failed("creating a kprobe-multi link", errno);
  return {true, 0, ""};
}

Verdict ProbeFentry(const std::string& func) {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return Failed("reading kernel BTF", errno);
  int id = btf__find_by_name_kind(vmlinux, func.c_str(), BTF_KIND_FUNC);
  btf__free(vmlinux);
  if (id < 0) return Failed("finding " + func + " in kernel BTF", ENOENT);
  Fd prog{LoadNop(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, id)};
  if (prog.fd < 0) return Failed("loading an fentry program", -prog.fd);
  Fd link{bpf_raw_tracepoint_open(nullptr, prog.fd)};
  if (link.fd < 0) return Failed("attaching an fentry trampoline", errno);
  return {true, 0, ""};
}

}  // namespace

Verdict Probe(const std::string& kind, const std::string& func) {
  if (kind == "kprobe") return ProbeKprobe(func);
  if (kind == "kprobe-multi") return ProbeKprobeMulti(func);
  if (kind == "fentry") return ProbeFentry(func);
  return Failed("unknown probe kind " + kind, EINVAL);
}

Napi::Value ProbeBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsString()) throw Napi::TypeError::New(env, "expected (kind, func) strings");
  Verdict v = Probe(info[0].As<Napi::String>(), info[1].As<Napi::String>());
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", v.ok);
  out.Set("errno", v.err);
  out.Set("error", v.error);
  return out;
}

}  // namespace backend_probe
