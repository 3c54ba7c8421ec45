#include "lz4_frame.h"

#include <lz4frame.h>

#include <string>
#include <vector>

#include "errors.h"

namespace lz4_frame {

Napi::Value Compress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "data must be a Uint8Array");
  auto data = info[0].As<Napi::Uint8Array>();
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentSize = data.ByteLength();  // lets a reader allocate the output exactly
  prefs.compressionLevel = 0;                        // the fast compressor (lz4 -1), not HC
  // Compressed into memory reused from call to call, then copied out at its final size:
  // a writer calls this for every buffer of every batch.
  static thread_local std::vector<uint8_t> scratch;
  scratch.resize(LZ4F_compressFrameBound(data.ByteLength(), &prefs));
  size_t n = LZ4F_compressFrame(scratch.data(), scratch.size(), data.Data(), data.ByteLength(), &prefs);
  if (LZ4F_isError(n)) throw errors::Make(env, "EINVAL", EINVAL, std::string("LZ4 compression failed: ") + LZ4F_getErrorName(n));
  return Napi::Buffer<uint8_t>::Copy(env, scratch.data(), n);
}

}  // namespace lz4_frame
