// LZ4 frame compression with the system liblz4, for the recording writer's Arrow IPC body
// compression (codec LZ4_FRAME). The reader's decoder is TypeScript (packages/format).
#pragma once

#include <napi.h>

namespace lz4_frame {

// lz4Frame(data: Uint8Array) -> Buffer: one LZ4 frame, fastest level, content size recorded.
Napi::Value Compress(const Napi::CallbackInfo& info);

}  // namespace lz4_frame
