#include "batch.h"

namespace {

constexpr size_t kHeaderBytesGuess = 96;  // typical capture: ethernet + IPv4 + TCP with options

template <typename T>
Napi::ArrayBuffer MoveToArrayBuffer(Napi::Env env, std::vector<T>& column) {
  if (column.empty()) return Napi::ArrayBuffer::New(env, 0);
  auto* owned = new std::vector<T>(std::move(column));
  int64_t bytes = static_cast<int64_t>(owned->size() * sizeof(T));
  // V8 does not see external memory: tell it, so garbage collection keeps pace.
  Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  return Napi::ArrayBuffer::New(
      env, owned->data(), owned->size() * sizeof(T),
      [bytes](Napi::Env env, void*, std::vector<T>* hint) {
        Napi::MemoryManagement::AdjustExternalMemory(env, -bytes);
        delete hint;
      },
      owned);
}

template <typename T>
Napi::TypedArrayOf<T> MoveToTypedArray(Napi::Env env, std::vector<T>& column) {
  size_t n = column.size();
  return Napi::TypedArrayOf<T>::New(env, n, MoveToArrayBuffer(env, column), 0);
}

}  // namespace

Batch::Batch(size_t capacity) {
  for (auto* c : {&ts_, &skb_, &location_}) c->reserve(capacity);
  retval_.reserve(capacity);
  for (auto* c : {&pid_, &netns_, &ifindex_, &mark_, &len_, &mtu_, &reason_}) c->reserve(capacity);
  for (auto* c : {&stackId_, &comm_}) c->reserve(capacity);
  for (auto* c : {&probe_, &protocol_, &cpu_, &netOff_, &transOff_}) c->reserve(capacity);
  for (auto* c : {&hasMac_, &pktType_}) c->reserve(capacity);
  headers_.reserve(capacity * kHeaderBytesGuess);
  headerOffsets_.reserve(capacity + 1);
  headerOffsets_.push_back(0);
  skbDataOffsets_.reserve(capacity + 1);
  skbDataOffsets_.push_back(0);
}

void Batch::Append(const skbtrail_event& ev, const uint8_t* headerBytes, size_t headerLen, int32_t comm) {
  ts_.push_back(ev.ts);
  skb_.push_back(ev.skb);
  location_.push_back(ev.location);
  retval_.push_back(ev.retval);
  pid_.push_back(ev.pid);
  netns_.push_back(ev.netns);
  ifindex_.push_back(ev.ifindex);
  mark_.push_back(ev.mark);
  len_.push_back(ev.len);
  mtu_.push_back(ev.mtu);
  reason_.push_back(ev.reason);
  stackId_.push_back(ev.stack_id);
  comm_.push_back(comm);
  probe_.push_back(ev.probe);
  protocol_.push_back(ev.protocol);
  cpu_.push_back(ev.cpu);
  netOff_.push_back(ev.net_off);
  transOff_.push_back(ev.trans_off);
  hasMac_.push_back(ev.has_mac);
  pktType_.push_back(ev.pkt_type);
  headers_.insert(headers_.end(), headerBytes, headerBytes + headerLen);
  headerOffsets_.push_back(static_cast<int32_t>(headers_.size()));
  skbDataOffsets_.push_back(static_cast<int32_t>(skbData_.size()));
}

void Batch::AppendSkb(const uint8_t* skbBytes, size_t skbLen) {
  skbData_.insert(skbData_.end(), skbBytes, skbBytes + skbLen);
  skbDataOffsets_.back() = static_cast<int32_t>(skbData_.size());
}

Napi::Object Batch::ToJs(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("length", static_cast<double>(size()));
  out.Set("ts", MoveToTypedArray(env, ts_));
  out.Set("skb", MoveToTypedArray(env, skb_));
  out.Set("location", MoveToTypedArray(env, location_));
  out.Set("retval", MoveToTypedArray(env, retval_));
  out.Set("pid", MoveToTypedArray(env, pid_));
  out.Set("netns", MoveToTypedArray(env, netns_));
  out.Set("ifindex", MoveToTypedArray(env, ifindex_));
  out.Set("mark", MoveToTypedArray(env, mark_));
  out.Set("len", MoveToTypedArray(env, len_));
  out.Set("mtu", MoveToTypedArray(env, mtu_));
  out.Set("reason", MoveToTypedArray(env, reason_));
  out.Set("stack_id", MoveToTypedArray(env, stackId_));
  out.Set("probe", MoveToTypedArray(env, probe_));
  out.Set("protocol", MoveToTypedArray(env, protocol_));
  out.Set("cpu", MoveToTypedArray(env, cpu_));
  out.Set("net_off", MoveToTypedArray(env, netOff_));
  out.Set("trans_off", MoveToTypedArray(env, transOff_));
  out.Set("has_mac", MoveToTypedArray(env, hasMac_));
  out.Set("pkt_type", MoveToTypedArray(env, pktType_));
  out.Set("comm", MoveToTypedArray(env, comm_));
  Napi::Array comms = Napi::Array::New(env, newComms.size());
  for (size_t i = 0; i < newComms.size(); i++) comms.Set(i, newComms[i]);
  out.Set("newComms", comms);
  out.Set("headers", MoveToTypedArray(env, headers_));
  out.Set("headerOffsets", MoveToTypedArray(env, headerOffsets_));
  if (!skbData_.empty()) {
    out.Set("skbData", MoveToTypedArray(env, skbData_));
    out.Set("skbDataOffsets", MoveToTypedArray(env, skbDataOffsets_));
  }
  newComms.clear();
  return out;
}
