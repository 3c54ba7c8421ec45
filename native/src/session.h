// One opened skbtrail.bpf.o: configure, load, attach, stream, read maps, close.
// Every method runs on the JS thread and throws Napi::Error (see errors.h).
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <napi.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "filter_inject.h"
#include "ring_stream.h"
#include "skbtrail.h"

class Session {
 public:
  struct Options {
    uint32_t snaplen = 128;
    bool outputStack = false;
    uint64_t ringbufBytes = 16 << 20;  // rounded up to a power of two, at least a page
    // pwru's filters and outputs (skbtrail_config in bpf/skbtrail.h).
    uint32_t filterNetns = 0;
    uint32_t filterMark = 0;
    uint32_t filterMarkMask = 0;  // 0: no mark filter
    uint32_t filterIfindex = 0;
    bool trackSkb = false;
    uint32_t trackMax = 65536;  // bound of the tracked-skb map
    bool outputSkb = false;
    bool outputCaller = false;
    std::string kernelBtf;  // BTF describing the kernel, for CO-RE; empty: the running kernel's
  };
  struct Unavailable {
    std::string program;
    std::string reason;
  };

  static std::unique_ptr<Session> Open(Napi::Env env, const std::string& objPath, const Options& options);
  ~Session() { Close(); }

  void SetAutoload(Napi::Env env, const std::string& program, bool autoload);
  // Before load: splices a translated pcap filter into every program's placeholder of
  // that layer and turns filtering on. A layer left without a filter matches nothing.
  void InjectFilter(Napi::Env env, filter_inject::Layer layer, const std::vector<bpf_insn>& body);
  // Loads every program left to autoload whose tracepoint this kernel has, in the
  // shape the program expects; returns the ones skipped for that reason.
  std::vector<Unavailable> Load(Napi::Env env);
  void Attach(Napi::Env env, const std::string& program);

  // Kernel functions (session_funcs.cc). Their programs find the probe id of the function
  // they run in by its address, in the func_probes map.
  // Before load: the address -> probe id table (filled into the map at load).
  void SetFuncProbes(Napi::Env env, std::vector<uint64_t> addrs, std::vector<skbtrail_func_probe> probes);
  // Before load: the function a fentry/fexit program is verified against (its template).
  void SetAttachTarget(Napi::Env env, const std::string& program, const std::string& func);
  // One kprobe-multi link attaching program to every function of funcs.
  void AttachKprobeMulti(Napi::Env env, const std::string& program, const std::vector<std::string>& funcs);
  // One kprobe link attaching program to func.
  void AttachKprobe(Napi::Env env, const std::string& program, const std::string& func);
  // Loads a copy of the fentry/fexit template program verified against func (of module,
  // or of the kernel when module is empty) and attaches it.
  void AttachTracing(Napi::Env env, const std::string& program, const std::string& func, const std::string& module);
  // The same for a BPF program already in the kernel (a tc one), by id: its main function.
  void SetAttachTargetProg(Napi::Env env, const std::string& program, uint32_t progId);
  void AttachTracingToProg(Napi::Env env, const std::string& program, uint32_t progId);
  void Start(Napi::Env env, Napi::Function onBatch, const RingStream::Options& options);
  // Detaches every probe, then lets the stream drain and deliver what is left.
  Napi::Promise Stop(Napi::Env env);
  std::vector<uint64_t> Lost(Napi::Env env);
  // skbs --filter-track-skb could not track because the map was full, per possible CPU.
  std::vector<uint64_t> TrackOverflow(Napi::Env env);
  // The frames recorded under a stack id; empty when the id has none.
  std::vector<uint64_t> StackFrames(Napi::Env env, int32_t id);
  // Detaches and frees everything; idempotent.
  void Close();

 private:
  Session(bpf_object* obj, std::string kernelBtf) : obj_(obj), kernelBtf_(std::move(kernelBtf)) {}
  void CheckOpen(Napi::Env env) const;
  void CheckLoaded(Napi::Env env) const;
  bpf_program* Program(Napi::Env env, const std::string& name) const;
  bpf_map* Map(Napi::Env env, const char* name) const;
  void Configure(Napi::Env env, const Options& options);
  void WriteConfig(Napi::Env env);
  void InjectInto(Napi::Env env, filter_inject::Layer layer, const std::vector<bpf_insn>& body);
  void DetachAll();
  std::vector<uint64_t> PerCpuCounter(Napi::Env env, const char* map, const char* what);
  void FillFuncProbes(Napi::Env env);
  void CloseTracingCopies();
  void ReleaseTargets();
  // The kernel's BTF object fd and type id of a function, for a tracing program's copy.
  std::pair<int, int> TracingTarget(Napi::Env env, const std::string& func, const std::string& module);
  int TargetProgFd(Napi::Env env, uint32_t progId);
  // Loads a copy of the loaded template program with opts' attach target and attaches it.
  void LoadTracingCopy(Napi::Env env, const std::string& program, bpf_prog_load_opts* opts, const std::string& target);

  bpf_object* obj_;
  std::string kernelBtf_;
  bool loaded_ = false;
  skbtrail_config config_ = {};
  bool injected_[2] = {false, false};  // per filter_inject::Layer
  std::map<std::string, std::string> unavailable_;  // program -> why it was not loaded
  std::vector<bpf_link*> links_;
  std::vector<uint64_t> funcAddrs_;
  std::vector<skbtrail_func_probe> funcProbes_;
  std::vector<int> tracingFds_;  // copies of tracing programs and their links
  btf* vmlinuxBtf_ = nullptr;    // for AttachTracing, read once
  std::map<std::string, std::pair<int, btf*>> moduleBtfs_;  // module -> its BTF object fd and types
  std::map<uint32_t, int> targetProgs_;                      // BPF program id -> fd, for tracing copies
  std::shared_ptr<RingStream> stream_;
};
