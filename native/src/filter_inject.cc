#include "filter_inject.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "errors.h"
#include "libbpf_log.h"
#include "skbtrail.h"

namespace filter_inject {
namespace {

constexpr uint8_t kLdImm64 = BPF_LD | BPF_DW | BPF_IMM;

bpf_insn Jump(int off) {
  bpf_insn insn = {};
  insn.code = BPF_JMP | BPF_JA;
  insn.off = static_cast<int16_t>(off);
  return insn;
}

bool FitsOffset(long off) {
  return off >= std::numeric_limits<int16_t>::min() && off <= std::numeric_limits<int16_t>::max();
}

bool IsMarker(const bpf_insn* insns, size_t i, size_t count, uint64_t marker) {
  return i + 1 < count && insns[i].code == kLdImm64 && insns[i].dst_reg == BPF_REG_0 && insns[i].src_reg == 0 &&
         static_cast<uint32_t>(insns[i].imm) == static_cast<uint32_t>(marker) &&
         static_cast<uint32_t>(insns[i + 1].imm) == static_cast<uint32_t>(marker >> 32);
}

}  // namespace

uint64_t Marker(Layer layer) {
  return layer == Layer::L2 ? static_cast<uint64_t>(SKBTRAIL_FILTER_MARK_L2) : static_cast<uint64_t>(SKBTRAIL_FILTER_MARK_L3);
}

Layer LayerArg(const Napi::CallbackInfo& info, size_t i) {
  std::string name = info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : "";
  if (name == "l2") return Layer::L2;
  if (name == "l3") return Layer::L3;
  throw Napi::TypeError::New(info.Env(), "layer must be 'l2' or 'l3'");
}

std::vector<bpf_insn> BodyArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "insns must be a Uint8Array of struct bpf_insn");
  auto bytes = info[i].As<Napi::Uint8Array>();
  if (bytes.ByteLength() == 0 || bytes.ByteLength() % sizeof(bpf_insn) != 0)
    throw errors::Make(env, "EINVAL", EINVAL, "a filter is a non-empty whole number of 8-byte instructions");
  std::vector<bpf_insn> body(bytes.ByteLength() / sizeof(bpf_insn));
  memcpy(body.data(), bytes.Data(), bytes.ByteLength());
  const long n = static_cast<long>(body.size());
  for (long pc = 0; pc < n; pc++) {
    const bpf_insn& insn = body[pc];
    uint8_t cls = BPF_CLASS(insn.code);
    if (insn.code == kLdImm64 || ((cls == BPF_JMP || cls == BPF_JMP32) && (BPF_OP(insn.code) == BPF_CALL || BPF_OP(insn.code) == BPF_EXIT)))
      throw errors::Make(env, "EINVAL", EINVAL, "filter instruction " + std::to_string(pc) + " is a call, exit or 64-bit load");
    if ((cls == BPF_JMP || cls == BPF_JMP32) && (pc + 1 + insn.off < 0 || pc + 1 + insn.off > n))
      throw errors::Make(env, "EINVAL", EINVAL, "filter instruction " + std::to_string(pc) + " jumps outside the filter");
  }
  return body;
}

std::vector<bpf_insn> RejectAll() {
  bpf_insn mov = {};
  mov.code = BPF_ALU | BPF_MOV | BPF_K;  // w0 = 0
  return {mov};
}

int Inject(bpf_program* prog, Layer layer, const std::vector<bpf_insn>& body, std::string* error) {
  const uint64_t marker = Marker(layer);
  std::vector<bpf_insn> insns(bpf_program__insns(prog), bpf_program__insns(prog) + bpf_program__insn_cnt(prog));
  const size_t original = insns.size();
  int patched = 0;
  for (size_t m = 0; m < original; m++) {
    if (!IsMarker(insns.data(), m, original, marker)) continue;
    long start = static_cast<long>(insns.size());
    long end = start + static_cast<long>(body.size());  // index of the jump back
    if (!FitsOffset(start - static_cast<long>(m + 1)) || !FitsOffset(static_cast<long>(m + 1) - (end + 1))) {
      *error = "the filter is too large to reach from its placeholder (" + std::to_string(body.size()) + " instructions)";
      return -E2BIG;
    }
    insns[m] = Jump(static_cast<int>(start - (m + 1)));  // into the filter ...
    insns[m + 1] = Jump(0);                                // ... which returns here
    insns.insert(insns.end(), body.begin(), body.end());
    insns.push_back(Jump(static_cast<int>(static_cast<long>(m + 1) - (end + 1))));
    patched++;
    m++;  // the second half of the marker
  }
  if (patched == 0) return 0;
  int err = bpf_program__set_insns(prog, insns.data(), insns.size());
  if (err) {
    *error = std::string("replacing the instructions of ") + bpf_program__name(prog) + " failed: " + strerror(-err);
    return err;
  }
  return patched;
}

namespace {

// An opened filter_test.bpf.o, closed on every path.
struct TestObject {
  bpf_object* obj = nullptr;
  ~TestObject() { bpf_object__close(obj); }
};

}  // namespace

Napi::Value TestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "objPath must be a string");
  std::string path = info[0].As<Napi::String>();
  Layer layer = LayerArg(info, 1);
  std::vector<bpf_insn> body = BodyArg(info, 2);
  auto typed = [&](size_t i, napi_typedarray_type type, const char* what) {
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
      throw Napi::TypeError::New(env, std::string("bad argument: ") + what);
  };
  typed(3, napi_uint8_array, "packets must be a Uint8Array");
  typed(4, napi_uint32_array, "offsets must be a Uint32Array");
  typed(5, napi_uint32_array, "wirelens must be a Uint32Array");
  auto packets = info[3].As<Napi::Uint8Array>();
  auto offsets = info[4].As<Napi::Uint32Array>();
  auto wirelens = info[5].As<Napi::Uint32Array>();
  size_t n = wirelens.ElementLength();
  if (offsets.ElementLength() != n + 1) throw Napi::TypeError::New(env, "offsets must have one entry more than wirelens");
  for (size_t i = 0; i < n; i++)
    if (offsets[i] > offsets[i + 1] || offsets[i + 1] > packets.ByteLength() || offsets[i + 1] - offsets[i] > SKBTRAIL_FILTER_BYTES)
      throw Napi::RangeError::New(env, "offsets must ascend within packets, at most " + std::to_string(SKBTRAIL_FILTER_BYTES) + " bytes each");

  libbpf_log::Clear();
  TestObject t;
  t.obj = bpf_object__open_file(path.c_str(), nullptr);
  if (!t.obj) throw errors::FromErrno(env, errno, "opening " + path + " failed", libbpf_log::Take());
  const char* wanted = layer == Layer::L2 ? "filter_test_l2" : "filter_test_l3";
  bpf_program* run = nullptr;
  bpf_program* prog;
  bpf_object__for_each_program(prog, t.obj) {
    bool mine = strcmp(bpf_program__name(prog), wanted) == 0;
    bpf_program__set_autoload(prog, mine);
    if (mine) run = prog;
  }
  if (!run) throw errors::Make(env, "EINVAL", EINVAL, path + " has no program " + wanted + ": rebuild it");
  std::string why;
  int patched = Inject(run, layer, body, &why);
  if (patched <= 0)
    throw errors::Make(env, "EINVAL", patched ? -patched : EINVAL, patched ? why : std::string(wanted) + " has no filter placeholder");
  int err = bpf_object__load(t.obj);
  if (err) throw errors::FromLoadFailure(env, -err, libbpf_log::Take());

  int fd = bpf_program__fd(run);
  auto out = Napi::Uint32Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    uint64_t args[3] = {reinterpret_cast<uint64_t>(packets.Data() + offsets[i]), offsets[i + 1] - offsets[i], wirelens[i]};
    bpf_test_run_opts opts = {};
    opts.sz = sizeof(opts);
    opts.ctx_in = args;
    opts.ctx_size_in = sizeof(args);
    if (bpf_prog_test_run_opts(fd, &opts)) throw errors::FromErrno(env, errno, "BPF_PROG_TEST_RUN failed");
    out[i] = opts.retval;
  }
  return out;
}

}  // namespace filter_inject
