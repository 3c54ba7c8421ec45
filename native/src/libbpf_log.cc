#include "libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <vector>

namespace libbpf_log {
namespace {

std::mutex mutex;
std::string buffer;
constexpr size_t kMaxBytes = 4 << 20;  // a verifier log can be large; keep its tail

int Print(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  va_list sizing;
  va_copy(sizing, args);
  int n = vsnprintf(nullptr, 0, format, sizing);
  va_end(sizing);
  if (n <= 0) return 0;
  std::vector<char> text(n + 1);  // one message can hold a whole verifier log
  vsnprintf(text.data(), text.size(), format, args);
  std::lock_guard<std::mutex> lock(mutex);
  buffer.append(text.data(), n);
  if (buffer.size() > kMaxBytes) buffer.erase(0, buffer.size() - kMaxBytes);
  return 0;
}

}  // namespace

void Install() { libbpf_set_print(Print); }

void Clear() {
  std::lock_guard<std::mutex> lock(mutex);
  buffer.clear();
}

std::string Take() {
  std::lock_guard<std::mutex> lock(mutex);
  std::string out;
  out.swap(buffer);
  return out;
}

}  // namespace libbpf_log
