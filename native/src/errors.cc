#include "errors.h"

#include "kernel_btf.h"

#include <cstring>
#include <deque>
#include <sstream>

namespace errors {
namespace {

constexpr size_t kVerifierTailLines = 20;

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "E" + std::to_string(err);
}

// The program name and the last lines of the last verifier log libbpf printed, if any.
bool FindVerifierRejection(const std::string& log, std::string* program, std::string* tail) {
  static const std::string kBegin = "-- BEGIN PROG LOAD LOG --";
  static const std::string kEnd = "-- END PROG LOAD LOG --";
  size_t begin = log.rfind(kBegin);
  if (begin == std::string::npos) return false;

  size_t lineStart = log.rfind('\n', begin);
  lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
  size_t quote = log.find("prog '", lineStart);
  if (quote != std::string::npos && quote < begin) {
    size_t nameStart = quote + 6;
    *program = log.substr(nameStart, log.find('\'', nameStart) - nameStart);
  }

  size_t bodyStart = begin + kBegin.size();
  size_t end = log.find(kEnd, bodyStart);
  std::istringstream body(log.substr(bodyStart, end == std::string::npos ? std::string::npos : end - bodyStart));
  std::deque<std::string> lines;
  for (std::string line; std::getline(body, line);) {
    if (line.empty()) continue;
    lines.push_back(line);
    if (lines.size() > kVerifierTailLines) lines.pop_front();
  }
  tail->clear();
  for (const auto& line : lines) *tail += "\n  " + line;
  return true;
}

}  // namespace

Napi::Error Make(Napi::Env env, const std::string& code, int err, const std::string& message,
                 const std::string& log) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", code);
  error.Set("errno", static_cast<double>(err));
  error.Set("log", log);
  return error;
}

Napi::Error FromErrno(Napi::Env env, int err, const std::string& what, const std::string& log) {
  if (err == EPERM || err == EACCES)
    return Make(env, "EPERM", err, "permission denied loading BPF: run as root or grant CAP_BPF and CAP_PERFMON",
                log);
  return Make(env, ErrnoName(err), err, what + ": " + strerror(err), log);
}

Napi::Error FromLoadFailure(Napi::Env env, int err, const std::string& log) {
  std::string program = "a BPF program", tail;
  if (FindVerifierRejection(log, &program, &tail))
    return Make(env, "VERIFIER", err, "the kernel's verifier rejected " + program + ":" + tail, log);
  return FromErrno(env, err, "loading the BPF programs failed", log);
}

Napi::Error KernelBtfMissing(Napi::Env env, const std::string& file) {
  if (!file.empty()) return Make(env, "ENOENT", ENOENT, "kernel BTF file " + file + " can't be read");
  return Make(env, "ENOENT", ENOENT,
              std::string("kernel BTF not found at ") + kernel_btf::kVmlinuxPath +
                  ": skbtrail needs a kernel built with CONFIG_DEBUG_INFO_BTF (or pass --kernel-btf FILE)");
}

}  // namespace errors
