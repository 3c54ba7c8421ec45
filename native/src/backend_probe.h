// Whether this kernel lets skbtrail attach a kind of probe, found by doing it: a program
// that only returns 0 is loaded and attached to one function, then closed. What fails
// (load or attach) and its errno say which kernel feature is missing.
#pragma once

#include <napi.h>

#include <string>

namespace backend_probe {

struct Verdict {
  bool ok;
  int err;            // errno of the failed step, 0 when ok
  std::string error;  // "<step>: <strerror>", empty when ok
};

// kind: "kprobe", "kprobe-multi" or "fentry"; func: a kernel function that can be probed.
Verdict Probe(const std::string& kind, const std::string& func);

// JS: probeBackend(kind, func) (see native/index.d.ts).
Napi::Value ProbeBinding(const Napi::CallbackInfo& info);

}  // namespace backend_probe
