// tc BPF programs already in the kernel (sched_cls, with BTF): what --filter-trace-tc traces with
// fentry/fexit, like pwru.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tc_progs {

struct TcProg {
  uint32_t id;        // the kernel's program id
  std::string name;   // the program's name (at most 15 characters)
  std::string func;   // its main function's name in its BTF: what fentry attaches to
  uint64_t addr;      // its JITed address: where bpf_get_func_ip() places a trampoline on it
};

// Every loaded sched_cls program that has BTF (fentry needs it), by id.
std::vector<TcProg> List();

// The main function's BTF type id in the program's BTF; -1 when unknown.
int MainFuncTypeId(int progFd, std::string* name);

// JS: tcPrograms() (see native/index.d.ts).
Napi::Value ListBinding(const Napi::CallbackInfo& info);

}  // namespace tc_progs
