// The addon's JavaScript surface (declared in native/index.d.ts). Handles are
// type-tagged externals around a Session; policy stays in TypeScript.
#include <napi.h>

#include <algorithm>
#include <memory>

#include "backend_probe.h"
#include "btf_funcs.h"
#include "errors.h"
#include "filter_inject.h"
#include "kernel_btf.h"
#include "libbpf_log.h"
#include "lz4_frame.h"
#include "pcap_expr.h"
#include "probes.h"
#include "session.h"
#include "tc_progs.h"
#include "skb_btf.h"

namespace {

const napi_type_tag kSessionTag = {0x736b62747261696cULL, 0x73657373696f6e31ULL};

struct SessionBox {
  std::unique_ptr<Session> session;
  napi_env env;
};

// Process exit (or worker teardown) closes what JS left open: nothing stays attached.
void CloseAtExit(void* arg) { static_cast<SessionBox*>(arg)->session->Close(); }

Session& Unwrap(const Napi::CallbackInfo& info) {
  Napi::Value v = info[0];
  if (!v.IsExternal() || !v.As<Napi::External<SessionBox>>().CheckTypeTag(&kSessionTag))
    throw Napi::TypeError::New(info.Env(), "expected a handle returned by open()");
  return *v.As<Napi::External<SessionBox>>().Data()->session;
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>();
}

// Reads an optional numeric option; absent or undefined keeps the default.
template <typename T>
void NumberOption(const Napi::Object& options, const char* key, T* out) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined()) return;
  if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0)
    throw Napi::TypeError::New(options.Env(), std::string(key) + " must be a non-negative number");
  *out = static_cast<T>(v.As<Napi::Number>().DoubleValue());
}

Napi::Object OptionsArg(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsUndefined()) return Napi::Object::New(info.Env());
  if (!info[i].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  return info[i].As<Napi::Object>();
}

Napi::Value Probes(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env(), std::size(kProbes));
  for (size_t i = 0; i < std::size(kProbes); i++) {
    Napi::Object p = Napi::Object::New(info.Env());
    p.Set("id", kProbes[i].id);
    p.Set("name", kProbes[i].name);
    p.Set("program", kProbes[i].program);
    p.Set("target", kProbes[i].target);
    out.Set(i, p);
  }
  return out;
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "objPath");
  Napi::Object o = OptionsArg(info, 1);
  Session::Options options;
  NumberOption(o, "snaplen", &options.snaplen);
  NumberOption(o, "ringbufBytes", &options.ringbufBytes);
  if (!o.Get("outputStack").IsUndefined()) options.outputStack = o.Get("outputStack").ToBoolean();
  NumberOption(o, "filterNetns", &options.filterNetns);
  NumberOption(o, "filterMark", &options.filterMark);
  NumberOption(o, "filterMarkMask", &options.filterMarkMask);
  NumberOption(o, "filterIfindex", &options.filterIfindex);
  NumberOption(o, "trackMax", &options.trackMax);
  for (auto [key, flag] : {std::pair<const char*, bool*>{"trackSkb", &options.trackSkb},
                           {"outputSkb", &options.outputSkb},
                           {"outputCaller", &options.outputCaller}})
    if (!o.Get(key).IsUndefined()) *flag = o.Get(key).ToBoolean();
  if (o.Get("kernelBtf").IsString()) options.kernelBtf = o.Get("kernelBtf").As<Napi::String>();

  auto* box = new SessionBox{nullptr, env};
  try {
    box->session = Session::Open(env, path, options);
  } catch (...) {
    delete box;
    throw;
  }
  napi_add_env_cleanup_hook(env, CloseAtExit, box);
  auto handle = Napi::External<SessionBox>::New(env, box, [](Napi::Env, SessionBox* b) {
    napi_remove_env_cleanup_hook(b->env, CloseAtExit, b);
    delete b;  // ~Session closes
  });
  handle.TypeTag(&kSessionTag);
  return handle;
}

Napi::Value SetAutoload(const Napi::CallbackInfo& info) {
  Unwrap(info).SetAutoload(info.Env(), StringArg(info, 1, "programName"), info[2].ToBoolean());
  return info.Env().Undefined();
}

Napi::Value InjectFilter(const Napi::CallbackInfo& info) {
  Session& session = Unwrap(info);
  session.InjectFilter(info.Env(), filter_inject::LayerArg(info, 1), filter_inject::BodyArg(info, 2));
  return info.Env().Undefined();
}

Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto skipped = Unwrap(info).Load(env);
  Napi::Array list = Napi::Array::New(env, skipped.size());
  for (size_t i = 0; i < skipped.size(); i++) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("program", skipped[i].program);
    s.Set("reason", skipped[i].reason);
    list.Set(i, s);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("unavailable", list);
  return out;
}

Napi::Value Attach(const Napi::CallbackInfo& info) {
  Unwrap(info).Attach(info.Env(), StringArg(info, 1, "programName"));
  return info.Env().Undefined();
}

bool IsTypedArrayOf(const Napi::Value& v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

Napi::Value SetFuncProbes(const Napi::CallbackInfo& info) {
  if (!IsTypedArrayOf(info[1], napi_biguint64_array) || !IsTypedArrayOf(info[2], napi_uint16_array) ||
      !IsTypedArrayOf(info[3], napi_int8_array))
    throw Napi::TypeError::New(info.Env(), "expected addrs (BigUint64Array), ids (Uint16Array) and rets (Int8Array)");
  auto addrs = info[1].As<Napi::BigUint64Array>();
  auto ids = info[2].As<Napi::Uint16Array>();
  auto rets = info[3].As<Napi::Int8Array>();
  if (ids.ElementLength() != rets.ElementLength()) throw Napi::TypeError::New(info.Env(), "ids and rets differ in length");
  std::vector<skbtrail_func_probe> probes(ids.ElementLength());
  for (size_t i = 0; i < probes.size(); i++) probes[i] = {ids[i], rets[i], 0};
  Unwrap(info).SetFuncProbes(info.Env(), std::vector<uint64_t>(addrs.Data(), addrs.Data() + addrs.ElementLength()),
                             std::move(probes));
  return info.Env().Undefined();
}

Napi::Value SetAttachTarget(const Napi::CallbackInfo& info) {
  Unwrap(info).SetAttachTarget(info.Env(), StringArg(info, 1, "programName"), StringArg(info, 2, "func"));
  return info.Env().Undefined();
}

Napi::Value AttachKprobeMulti(const Napi::CallbackInfo& info) {
  if (!info[2].IsArray()) throw Napi::TypeError::New(info.Env(), "funcs must be an array of strings");
  auto array = info[2].As<Napi::Array>();
  std::vector<std::string> funcs;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value f = array.Get(i);
    if (!f.IsString()) throw Napi::TypeError::New(info.Env(), "funcs must be an array of strings");
    funcs.push_back(f.As<Napi::String>());
  }
  Unwrap(info).AttachKprobeMulti(info.Env(), StringArg(info, 1, "programName"), funcs);
  return info.Env().Undefined();
}

Napi::Value AttachKprobe(const Napi::CallbackInfo& info) {
  Unwrap(info).AttachKprobe(info.Env(), StringArg(info, 1, "programName"), StringArg(info, 2, "func"));
  return info.Env().Undefined();
}

Napi::Value AttachTracing(const Napi::CallbackInfo& info) {
  std::string module = info[3].IsUndefined() || info[3].IsNull() ? "" : StringArg(info, 3, "module");
  Unwrap(info).AttachTracing(info.Env(), StringArg(info, 1, "programName"), StringArg(info, 2, "func"), module);
  return info.Env().Undefined();
}

uint32_t ProgIdArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "progId must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

Napi::Value SetAttachTargetProg(const Napi::CallbackInfo& info) {
  Unwrap(info).SetAttachTargetProg(info.Env(), StringArg(info, 1, "programName"), ProgIdArg(info, 2));
  return info.Env().Undefined();
}

Napi::Value AttachTracingToProg(const Napi::CallbackInfo& info) {
  Unwrap(info).AttachTracingToProg(info.Env(), StringArg(info, 1, "programName"), ProgIdArg(info, 2));
  return info.Env().Undefined();
}

Napi::Value Start(const Napi::CallbackInfo& info) {
  Session& session = Unwrap(info);
  if (!info[1].IsFunction()) throw Napi::TypeError::New(info.Env(), "onBatch must be a function");
  Napi::Object o = OptionsArg(info, 2);
  RingStream::Options options;
  NumberOption(o, "maxBatchEvents", &options.maxBatchEvents);
  NumberOption(o, "maxBatchMs", &options.maxBatchMs);
  options.maxBatchEvents = std::clamp<size_t>(options.maxBatchEvents, 1, 1 << 20);
  options.maxBatchMs = std::max(options.maxBatchMs, 1);
  session.Start(info.Env(), info[1].As<Napi::Function>(), options);
  return info.Env().Undefined();
}

Napi::Value Stop(const Napi::CallbackInfo& info) { return Unwrap(info).Stop(info.Env()); }

Napi::Value Lost(const Napi::CallbackInfo& info) {
  auto perCpu = Unwrap(info).Lost(info.Env());
  Napi::Array out = Napi::Array::New(info.Env(), perCpu.size());
  for (size_t i = 0; i < perCpu.size(); i++) out.Set(i, static_cast<double>(perCpu[i]));
  return out;
}

Napi::Value TrackOverflow(const Napi::CallbackInfo& info) {
  auto perCpu = Unwrap(info).TrackOverflow(info.Env());
  Napi::Array out = Napi::Array::New(info.Env(), perCpu.size());
  for (size_t i = 0; i < perCpu.size(); i++) out.Set(i, static_cast<double>(perCpu[i]));
  return out;
}

Napi::Value Stacks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Session& session = Unwrap(info);
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(env, "ids must be an Int32Array");
  auto ids = info[1].As<Napi::Int32Array>();
  Napi::Array out = Napi::Array::New(env, ids.ElementLength());
  for (size_t i = 0; i < ids.ElementLength(); i++) {
    auto frames = session.StackFrames(env, ids[i]);
    auto array = Napi::BigUint64Array::New(env, frames.size());
    std::copy(frames.begin(), frames.end(), array.Data());
    out.Set(i, array);
  }
  return out;
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Unwrap(info).Close();
  return info.Env().Undefined();
}

Napi::Value BtfEnum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string enumName = StringArg(info, 1, "enumName");
  btf* btf = nullptr;
  if (info[0].IsNull() || info[0].IsUndefined()) {
    btf = btf__load_vmlinux_btf();
    if (!btf) throw errors::KernelBtfMissing(env);
  } else {
    std::string path = StringArg(info, 0, "btfPath");
    btf = btf__parse(path.c_str(), nullptr);
    if (!btf) throw errors::FromErrno(env, errno, "reading BTF from " + path + " failed");
  }
  std::vector<kernel_btf::EnumValue> values;
  kernel_btf::EnumValues(btf, enumName, &values);
  btf__free(btf);

  Napi::Array out = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); i++) {
    Napi::Object v = Napi::Object::New(env);
    v.Set("name", values[i].name);
    v.Set("value", static_cast<double>(values[i].value));
    out.Set(i, v);
  }
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  libbpf_log::Install();
  exports.Set("probes", Napi::Function::New(env, Probes, "probes"));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("setAutoload", Napi::Function::New(env, SetAutoload, "setAutoload"));
  exports.Set("injectFilter", Napi::Function::New(env, InjectFilter, "injectFilter"));
  exports.Set("load", Napi::Function::New(env, Load, "load"));
  exports.Set("attach", Napi::Function::New(env, Attach, "attach"));
  exports.Set("setFuncProbes", Napi::Function::New(env, SetFuncProbes, "setFuncProbes"));
  exports.Set("setAttachTarget", Napi::Function::New(env, SetAttachTarget, "setAttachTarget"));
  exports.Set("attachKprobeMulti", Napi::Function::New(env, AttachKprobeMulti, "attachKprobeMulti"));
  exports.Set("attachKprobe", Napi::Function::New(env, AttachKprobe, "attachKprobe"));
  exports.Set("attachTracing", Napi::Function::New(env, AttachTracing, "attachTracing"));
  exports.Set("setAttachTargetProg", Napi::Function::New(env, SetAttachTargetProg, "setAttachTargetProg"));
  exports.Set("attachTracingToProg", Napi::Function::New(env, AttachTracingToProg, "attachTracingToProg"));
  exports.Set("tcPrograms", Napi::Function::New(env, tc_progs::ListBinding, "tcPrograms"));
  exports.Set("start", Napi::Function::New(env, Start, "start"));
  exports.Set("stop", Napi::Function::New(env, Stop, "stop"));
  exports.Set("lost", Napi::Function::New(env, Lost, "lost"));
  exports.Set("stacks", Napi::Function::New(env, Stacks, "stacks"));
  exports.Set("trackOverflow", Napi::Function::New(env, TrackOverflow, "trackOverflow"));
  exports.Set("skbBtf", Napi::Function::New(env, skb_btf::SkbBtf, "skbBtf"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("btfEnum", Napi::Function::New(env, BtfEnum, "btfEnum"));
  exports.Set("btfSkbFuncs", Napi::Function::New(env, btf_funcs::SkbFuncsBinding, "btfSkbFuncs"));
  exports.Set("probeBackend", Napi::Function::New(env, backend_probe::ProbeBinding, "probeBackend"));
  exports.Set("pcapCompile", Napi::Function::New(env, pcap_expr::Compile, "pcapCompile"));
  exports.Set("pcapOfflineMatch", Napi::Function::New(env, pcap_expr::OfflineMatch, "pcapOfflineMatch"));
  exports.Set("lz4Frame", Napi::Function::New(env, lz4_frame::Compress, "lz4Frame"));
  exports.Set("filterTestRun", Napi::Function::New(env, filter_inject::TestRun, "filterTestRun"));
  return exports;
}

}  // namespace

NODE_API_MODULE(skbtrail_native, Init)
