// The probe table of bpf/skbtrail.h as a C++ array, for probes() and the load-time checks.
#pragma once

#include <linux/types.h>

#include <iterator>
#include <string>

#include "skbtrail.h"

struct ProbeDef {
  int id;
  const char* name;     // the func column's value: the tracepoint without its subsystem
  const char* program;  // the BPF program's name in skbtrail.bpf.o
  const char* target;   // subsystem:tracepoint
  int skbArg;           // position of the struct sk_buff * among the tracepoint's arguments
};

inline constexpr ProbeDef kProbes[] = {
#define X(id, prog, tracepoint, skb_arg) {id, #prog, "tp_" #prog, tracepoint, skb_arg},
    SKBTRAIL_TRACEPOINTS(X)
#undef X
};

static_assert(std::size(kProbes) == SKBTRAIL_PROBE_COUNT, "probe table and SKBTRAIL_PROBE_COUNT disagree");

// The recording's func dictionary is indexed by probe id, so ids must be 0..n-1 in order.
constexpr bool ProbeIdsAreIndexes() {
  for (size_t i = 0; i < std::size(kProbes); i++)
    if (kProbes[i].id != static_cast<int>(i)) return false;
  return true;
}
static_assert(ProbeIdsAreIndexes(), "probe ids must be 0..SKBTRAIL_PROBE_COUNT-1 in table order");

inline const ProbeDef* FindProbeByProgram(const std::string& program) {
  for (const auto& p : kProbes)
    if (program == p.program) return &p;
  return nullptr;
}
