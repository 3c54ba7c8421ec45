// One delivery of events in columns: the NativeBatch of docs' contract. Filled on the
// worker thread; ToJs hands each column's storage to JavaScript as an ArrayBuffer
// without copying it.
#pragma once

#include <linux/types.h>
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "skbtrail.h"

class Batch {
 public:
  explicit Batch(size_t capacity);

  void Append(const skbtrail_event& ev, const uint8_t* headerBytes, size_t headerLen, int32_t comm);
  // The event's raw struct sk_buff (--output-skb); called right after Append when it has one.
  void AppendSkb(const uint8_t* skbBytes, size_t skbLen);
  size_t size() const { return ts_.size(); }
  bool empty() const { return ts_.empty(); }

  // Comm names first seen in this batch, in id order.
  std::vector<std::string> newComms;

  // Moves the columns into a NativeBatch object; the Batch is spent afterwards.
  Napi::Object ToJs(Napi::Env env);

 private:
  std::vector<uint64_t> ts_, skb_, location_;
  std::vector<int64_t> retval_;
  std::vector<uint32_t> pid_, netns_, ifindex_, mark_, len_, mtu_, reason_;
  std::vector<int32_t> stackId_, comm_;
  std::vector<uint16_t> probe_, protocol_, cpu_, netOff_, transOff_;
  std::vector<uint8_t> hasMac_, pktType_;
  std::vector<uint8_t> headers_;
  std::vector<int32_t> headerOffsets_;  // size() + 1 entries, like Arrow Binary offsets
  // Raw struct sk_buff bytes (--output-skb): offsets kept for every event, handed to JS
  // (skbData, skbDataOffsets) only when some event of the batch has bytes.
  std::vector<uint8_t> skbData_;
  std::vector<int32_t> skbDataOffsets_;
};
