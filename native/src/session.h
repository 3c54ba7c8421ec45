// One opened skbtrail.bpf.o: configure, load, attach, stream, read maps, close.
// Every method runs on the JS thread and throws Napi::Error (see errors.h).
#pragma once

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
  void Start(Napi::Env env, Napi::Function onBatch, const RingStream::Options& options);
  // Detaches every probe, then lets the stream drain and deliver what is left.
  Napi::Promise Stop(Napi::Env env);
  std::vector<uint64_t> Lost(Napi::Env env);
  // The frames recorded under a stack id; empty when the id has none.
  std::vector<uint64_t> StackFrames(Napi::Env env, int32_t id);
  // Detaches and frees everything; idempotent.
  void Close();

 private:
  explicit Session(bpf_object* obj) : obj_(obj) {}
  void CheckOpen(Napi::Env env) const;
  void CheckLoaded(Napi::Env env) const;
  bpf_program* Program(Napi::Env env, const std::string& name) const;
  bpf_map* Map(Napi::Env env, const char* name) const;
  void Configure(Napi::Env env, const Options& options);
  void WriteConfig(Napi::Env env);
  void InjectInto(Napi::Env env, filter_inject::Layer layer, const std::vector<bpf_insn>& body);
  void DetachAll();

  bpf_object* obj_;
  bool loaded_ = false;
  skbtrail_config config_ = {};
  bool injected_[2] = {false, false};  // per filter_inject::Layer
  std::map<std::string, std::string> unavailable_;  // program -> why it was not loaded
  std::vector<bpf_link*> links_;
  std::shared_ptr<RingStream> stream_;
};
