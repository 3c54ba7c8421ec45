#include "pcap_expr.h"

#include <pcap/pcap.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "errors.h"

namespace pcap_expr {
namespace {

// Classic BPF as pcap hands it out: the layout of the kernel's struct sock_filter.
static_assert(sizeof(struct bpf_insn) == 8, "struct bpf_insn is not struct sock_filter's size");

int LinkType(const Napi::CallbackInfo& info, size_t i) {
  std::string name = info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : "";
  if (name == "ether") return DLT_EN10MB;
  if (name == "raw") return DLT_RAW;
  throw Napi::TypeError::New(info.Env(), "linktype must be 'ether' or 'raw'");
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>();
}

template <typename T>
T TypedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
    throw Napi::TypeError::New(info.Env(), std::string("bad argument: ") + what);
  return info[i].As<T>();
}

// A compiled expression, freed with its dead handle.
struct Program {
  pcap_t* handle = nullptr;
  bpf_program code = {};
  ~Program() {
    if (code.bf_insns) pcap_freecode(&code);
    if (handle) pcap_close(handle);
  }
};

// Compiles like tcpdump does (optimized, netmask unknown); throws libpcap's message as code PCAP.
void CompileInto(Napi::Env env, const std::string& expr, int linktype, int snaplen, Program* prog) {
  prog->handle = pcap_open_dead(linktype, snaplen);
  if (!prog->handle) throw errors::Make(env, "ENOMEM", ENOMEM, "pcap_open_dead failed");
  if (pcap_compile(prog->handle, &prog->code, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    prog->code = {};
    throw errors::Make(env, "PCAP", EINVAL, pcap_geterr(prog->handle));
  }
}

}  // namespace

Napi::Value Compile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string expr = StringArg(info, 0, "expr");
  int linktype = LinkType(info, 1);
  int snaplen = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 262144;
  if (snaplen <= 0) throw Napi::TypeError::New(env, "snaplen must be a positive number");

  Program prog;
  CompileInto(env, expr, linktype, snaplen, &prog);
  size_t bytes = prog.code.bf_len * sizeof(struct bpf_insn);
  auto out = Napi::Uint8Array::New(env, bytes);
  memcpy(out.Data(), prog.code.bf_insns, bytes);
  return out;
}

Napi::Value OfflineMatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string expr = StringArg(info, 0, "expr");
  int linktype = LinkType(info, 1);
  auto packets = TypedArg<Napi::Uint8Array>(info, 2, napi_uint8_array, "packets must be a Uint8Array");
  auto offsets = TypedArg<Napi::Uint32Array>(info, 3, napi_uint32_array, "offsets must be a Uint32Array");
  auto wirelens = TypedArg<Napi::Uint32Array>(info, 4, napi_uint32_array, "wirelens must be a Uint32Array");
  size_t n = wirelens.ElementLength();
  if (offsets.ElementLength() != n + 1) throw Napi::TypeError::New(env, "offsets must have one entry more than wirelens");
  for (size_t i = 0; i < n; i++)
    if (offsets[i] > offsets[i + 1] || offsets[i + 1] > packets.ByteLength())
      throw Napi::RangeError::New(env, "offsets must ascend within packets");

  Program prog;
  CompileInto(env, expr, linktype, 262144, &prog);
  auto out = Napi::Uint32Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    pcap_pkthdr hdr = {};
    hdr.caplen = offsets[i + 1] - offsets[i];
    hdr.len = wirelens[i];
    out[i] = static_cast<uint32_t>(pcap_offline_filter(&prog.code, &hdr, packets.Data() + offsets[i]));
  }
  return out;
}

}  // namespace pcap_expr
