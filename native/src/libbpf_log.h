// libbpf prints its warnings (verifier logs among them) through one global callback;
// skbtrail keeps them so errors can carry the log instead of spilling it on stderr.
#pragma once

#include <string>

namespace libbpf_log {

// Routes libbpf's output into the buffer; call once at module load.
void Install();

// Empties the buffer; call before a libbpf operation whose log an error may need.
void Clear();

// Everything libbpf printed (info and warnings) since the last Clear().
std::string Take();

}  // namespace libbpf_log
