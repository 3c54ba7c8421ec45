#include "session.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"
#include "kernel_btf.h"
#include "libbpf_log.h"
#include "probes.h"

namespace {

const char kRebuild[] = "rebuild it with `npm run build -w native`";

uint64_t RingBytes(uint64_t requested) {
  // The kernel wants a power of two that is a multiple of the page size.
  uint64_t bytes = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  while (bytes < requested) bytes <<= 1;
  return bytes;
}

// Offset of the global `name` inside the object's .rodata section, or -1.
long RodataOffset(const btf* btf, const char* name) {
  int sec = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
  if (sec < 0) return -1;
  const btf_type* datasec = btf__type_by_id(btf, sec);
  const btf_var_secinfo* var = btf_var_secinfos(datasec);
  for (int i = 0; i < btf_vlen(datasec); i++, var++) {
    const btf_type* t = btf__type_by_id(btf, var->type);
    if (strcmp(btf__name_by_offset(btf, t->name_off), name) == 0) return var->offset;
  }
  return -1;
}

}  // namespace

std::unique_ptr<Session> Session::Open(Napi::Env env, const std::string& objPath, const Options& options) {
  const std::string& kernelBtf = options.kernelBtf;
  if (access(kernelBtf.empty() ? kernel_btf::kVmlinuxPath : kernelBtf.c_str(), R_OK) != 0)
    throw errors::KernelBtfMissing(env, kernelBtf);

  libbpf_log::Clear();
  LIBBPF_OPTS(bpf_object_open_opts, openOpts, .btf_custom_path = kernelBtf.empty() ? nullptr : kernelBtf.c_str());
  bpf_object* obj = bpf_object__open_file(objPath.c_str(), &openOpts);
  if (!obj) {
    int err = errno;
    if (err == ENOENT)
      throw errors::Make(env, "ENOENT", err, "BPF object not found at " + objPath + ": build it with `npm run build -w native`");
    throw errors::FromErrno(env, err, "opening " + objPath + " failed", libbpf_log::Take());
  }
  std::unique_ptr<Session> session(new Session(obj, kernelBtf));
  for (const auto& probe : kProbes)
    if (!bpf_object__find_program_by_name(obj, probe.program))
      throw errors::Make(env, "EINVAL", EINVAL, objPath + " has no program " + probe.program + ": " + kRebuild);
  session->Configure(env, options);
  return session;
}

void Session::Configure(Napi::Env env, const Options& options) {
  if (options.snaplen > SKBTRAIL_SNAPLEN_MAX)
    throw errors::Make(env, "EINVAL", EINVAL,
                       "snaplen " + std::to_string(options.snaplen) + " is above the maximum of " +
                           std::to_string(SKBTRAIL_SNAPLEN_MAX));

  config_.snaplen = options.snaplen;
  config_.output_stack = options.outputStack;
  config_.filter_netns = options.filterNetns;
  config_.filter_mark = options.filterMark & options.filterMarkMask;
  config_.filter_mark_mask = options.filterMarkMask;
  config_.filter_ifindex = options.filterIfindex;
  config_.track_skb = options.trackSkb;
  config_.output_skb = options.outputSkb;
  config_.output_caller = options.outputCaller;
  if (options.trackSkb && options.trackMax == 0)
    throw errors::Make(env, "EINVAL", EINVAL, "trackMax must be at least 1");
  WriteConfig(env);
  int err = bpf_map__set_max_entries(Map(env, "events"), RingBytes(options.ringbufBytes));
  // The tracked-skb map is preallocated: one entry when tracking is off.
  if (!err) err = bpf_map__set_max_entries(Map(env, "tracked"), options.trackSkb ? options.trackMax : 1);
  if (err) throw errors::FromErrno(env, -err, "configuring the BPF object failed");
}

// .rodata is frozen at load: the settings go into its initial image before.
void Session::WriteConfig(Napi::Env env) {
  bpf_map* rodata = nullptr;
  bpf_map* map;
  bpf_object__for_each_map(map, obj_) {
    std::string name = bpf_map__name(map);
    if (bpf_map__is_internal(map) && name.size() >= 7 && name.compare(name.size() - 7, 7, ".rodata") == 0) rodata = map;
  }
  long offset = RodataOffset(bpf_object__btf(obj_), "CONFIG");
  size_t size = 0;
  const auto* initial = rodata ? static_cast<const uint8_t*>(bpf_map__initial_value(rodata, &size)) : nullptr;
  if (!initial || offset < 0 || offset + sizeof(skbtrail_config) > size)
    throw errors::Make(env, "EINVAL", EINVAL, std::string("the BPF object has no CONFIG in .rodata: ") + kRebuild);
  std::vector<uint8_t> image(initial, initial + size);
  memcpy(image.data() + offset, &config_, sizeof(config_));
  int err = bpf_map__set_initial_value(rodata, image.data(), image.size());
  if (err) throw errors::FromErrno(env, -err, "configuring the BPF object failed");
}

void Session::CheckOpen(Napi::Env env) const {
  if (!obj_) throw errors::Make(env, "EBADF", EBADF, "this skbtrail handle is closed");
}

void Session::CheckLoaded(Napi::Env env) const {
  CheckOpen(env);
  if (!loaded_) throw errors::Make(env, "EINVAL", EINVAL, "the BPF programs are not loaded yet: call load() first");
}

bpf_program* Session::Program(Napi::Env env, const std::string& name) const {
  bpf_program* prog = bpf_object__find_program_by_name(obj_, name.c_str());
  if (!prog) throw errors::Make(env, "ENOENT", ENOENT, "no BPF program named " + name);
  return prog;
}

bpf_map* Session::Map(Napi::Env env, const char* name) const {
  bpf_map* map = bpf_object__find_map_by_name(obj_, name);
  if (!map) throw errors::Make(env, "EINVAL", EINVAL, std::string("the BPF object has no map ") + name + ": " + kRebuild);
  return map;
}

void Session::SetAutoload(Napi::Env env, const std::string& program, bool autoload) {
  CheckOpen(env);
  if (loaded_) throw errors::Make(env, "EINVAL", EINVAL, "setAutoload() must come before load()");
  int err = bpf_program__set_autoload(Program(env, program), autoload);
  if (err) throw errors::FromErrno(env, -err, "setting autoload of " + program + " failed");
}

void Session::InjectFilter(Napi::Env env, filter_inject::Layer layer, const std::vector<bpf_insn>& body) {
  CheckOpen(env);
  if (loaded_) throw errors::Make(env, "EINVAL", EINVAL, "injectFilter() must come before load()");
  int index = static_cast<int>(layer);
  if (injected_[index]) throw errors::Make(env, "EINVAL", EINVAL, "a filter for this layer was already injected");
  InjectInto(env, layer, body);
  injected_[index] = true;
  config_.filter = 1;
  WriteConfig(env);
}

void Session::InjectInto(Napi::Env env, filter_inject::Layer layer, const std::vector<bpf_insn>& body) {
  // Every program that reads packets has a placeholder; fexit ones have none: they record a
  // return only when its entry passed the filters.
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj_) {
    std::string why;
    int patched = filter_inject::Inject(prog, layer, body, &why);
    if (patched == 0 && FindProbeByProgram(bpf_program__name(prog)))
      throw errors::Make(env, "EINVAL", EINVAL, std::string(bpf_program__name(prog)) + " has no pcap filter placeholder: " + kRebuild);
    if (patched < 0) throw errors::Make(env, "EINVAL", -patched, why);
  }
}

std::vector<Session::Unavailable> Session::Load(Napi::Env env) {
  CheckOpen(env);
  if (loaded_) throw errors::Make(env, "EINVAL", EINVAL, "the BPF programs are already loaded");
  // Filtering is on: a layer nobody gave a filter matches nothing (its unpatched marker would match all).
  if (config_.filter)
    for (auto layer : {filter_inject::Layer::L2, filter_inject::Layer::L3})
      if (!injected_[static_cast<int>(layer)]) {
        InjectInto(env, layer, filter_inject::RejectAll());
        injected_[static_cast<int>(layer)] = true;
      }

  // A program whose tracepoint is missing or changed would fail the whole load.
  btf* vmlinux = kernelBtf_.empty() ? btf__load_vmlinux_btf() : btf__parse(kernelBtf_.c_str(), nullptr);
  if (!vmlinux) throw errors::KernelBtfMissing(env, kernelBtf_);
  std::vector<Unavailable> skipped;
  for (const auto& probe : kProbes) {
    bpf_program* prog = Program(env, probe.program);
    if (!bpf_program__autoload(prog)) continue;
    std::string reason = kernel_btf::TracepointMismatch(vmlinux, probe.name, probe.skbArg);
    if (reason.empty()) continue;
    bpf_program__set_autoload(prog, false);
    unavailable_[probe.program] = reason;
    skipped.push_back({probe.program, reason});
  }
  btf__free(vmlinux);

  libbpf_log::Clear();
  int err = bpf_object__load(obj_);
  if (err) throw errors::FromLoadFailure(env, -err, libbpf_log::Take());
  loaded_ = true;
  FillFuncProbes(env);
  return skipped;
}

void Session::Attach(Napi::Env env, const std::string& program) {
  CheckLoaded(env);
  bpf_program* prog = Program(env, program);
  const ProbeDef* probe = FindProbeByProgram(program);
  std::string target = probe ? probe->target : program;
  auto missing = unavailable_.find(program);
  if (missing != unavailable_.end())
    throw errors::Make(env, "ENOENT", ENOENT, "tracepoint " + target + " can't be used: " + missing->second);
  if (!bpf_program__autoload(prog))
    throw errors::Make(env, "EINVAL", EINVAL, program + " was not loaded (setAutoload false)");

  libbpf_log::Clear();
  bpf_link* link = bpf_program__attach(prog);
  if (!link) {
    int err = errno;
    throw errors::Make(env, "ATTACH", err, "attaching " + program + " to tracepoint " + target + " failed: " + strerror(err),
                       libbpf_log::Take());
  }
  links_.push_back(link);
}

void Session::Start(Napi::Env env, Napi::Function onBatch, const RingStream::Options& options) {
  CheckLoaded(env);
  if (stream_) throw errors::Make(env, "EBUSY", EBUSY, "this session was already started");
  stream_ = RingStream::Start(env, bpf_map__fd(Map(env, "events")), onBatch, options);
}

Napi::Promise Session::Stop(Napi::Env env) {
  DetachAll();
  if (!stream_) {
    auto done = Napi::Promise::Deferred::New(env);
    done.Resolve(env.Undefined());
    return done.Promise();
  }
  return stream_->Stop(env);
}

std::vector<uint64_t> Session::Lost(Napi::Env env) { return PerCpuCounter(env, "lost", "the lost-event counters"); }

std::vector<uint64_t> Session::TrackOverflow(Napi::Env env) {
  return PerCpuCounter(env, "track_overflow", "the tracked-skb overflow counters");
}

std::vector<uint64_t> Session::PerCpuCounter(Napi::Env env, const char* map, const char* what) {
  CheckLoaded(env);
  int cpus = libbpf_num_possible_cpus();
  if (cpus < 0) throw errors::FromErrno(env, -cpus, "counting possible CPUs failed");
  std::vector<uint64_t> perCpu(cpus);
  uint32_t key = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(Map(env, map)), &key, perCpu.data()))
    throw errors::FromErrno(env, errno, std::string("reading ") + what + " failed");
  return perCpu;
}

std::vector<uint64_t> Session::StackFrames(Napi::Env env, int32_t id) {
  CheckLoaded(env);
  bpf_map* stacks = Map(env, "stacks");
  std::vector<uint64_t> frames(bpf_map__value_size(stacks) / sizeof(uint64_t));
  uint32_t key = static_cast<uint32_t>(id);
  if (id < 0 || bpf_map_lookup_elem(bpf_map__fd(stacks), &key, frames.data())) return {};
  while (!frames.empty() && frames.back() == 0) frames.pop_back();
  return frames;
}

void Session::DetachAll() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  links_.clear();
  CloseTracingCopies();
}

void Session::Close() {
  if (!obj_) return;
  if (stream_) stream_->Abort();  // before the object closes the ring buffer's map
  stream_.reset();
  DetachAll();
  ReleaseTargets();
  bpf_object__close(obj_);
  obj_ = nullptr;
}
