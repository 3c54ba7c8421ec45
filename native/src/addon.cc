// The addon's JavaScript surface (declared in native/index.d.ts). Handles are
// type-tagged externals around a Session; policy stays in TypeScript.
#include <napi.h>

#include <algorithm>
#include <memory>

#include "errors.h"
#include "filter_inject.h"
#include "kernel_btf.h"
#include "libbpf_log.h"
#include "pcap_expr.h"
#include "probes.h"
#include "session.h"

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
  exports.Set("start", Napi::Function::New(env, Start, "start"));
  exports.Set("stop", Napi::Function::New(env, Stop, "stop"));
  exports.Set("lost", Napi::Function::New(env, Lost, "lost"));
  exports.Set("stacks", Napi::Function::New(env, Stacks, "stacks"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("btfEnum", Napi::Function::New(env, BtfEnum, "btfEnum"));
  exports.Set("pcapCompile", Napi::Function::New(env, pcap_expr::Compile, "pcapCompile"));
  exports.Set("pcapOfflineMatch", Napi::Function::New(env, pcap_expr::OfflineMatch, "pcapOfflineMatch"));
  exports.Set("filterTestRun", Napi::Function::New(env, filter_inject::TestRun, "filterTestRun"));
  return exports;
}

}  // namespace

NODE_API_MODULE(skbtrail_native, Init)
