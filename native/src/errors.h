// JS errors carrying what skbtrail's error module reads: code ('EPERM', 'ENOENT',
// 'VERIFIER', 'ATTACH', ...), errno (a positive number, 0 when none) and log (libbpf's).
#pragma once

#include <napi.h>

#include <string>

namespace errors {

Napi::Error Make(Napi::Env env, const std::string& code, int err, const std::string& message,
                 const std::string& log = "");

// A failed system or libbpf call: permission errors get the message that says what to
// do; others read "<what>: <strerror>" with the errno's name as code.
Napi::Error FromErrno(Napi::Env env, int err, const std::string& what, const std::string& log = "");

// bpf_object__load failed: a VERIFIER error naming the program and quoting the end of
// the verifier's log when the log has one, else FromErrno.
Napi::Error FromLoadFailure(Napi::Env env, int err, const std::string& log);

// /sys/kernel/btf/vmlinux (or the kernel BTF file given instead) is missing: the kernel
// lacks the type information CO-RE needs.
Napi::Error KernelBtfMissing(Napi::Env env, const std::string& file = "");

}  // namespace errors
