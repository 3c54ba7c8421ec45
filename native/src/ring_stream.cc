#include "ring_stream.h"

#include <algorithm>
#include <cerrno>

#include "errors.h"

namespace {

// How long one poll may block: bounds how late the worker reads a ring buffer that
// did not wake it, and notices stop and abort.
constexpr int kPollSliceMs = 50;

}  // namespace

std::shared_ptr<RingStream> RingStream::Start(Napi::Env env, int ringFd, Napi::Function onBatch,
                                              const Options& options) {
  std::shared_ptr<RingStream> stream(new RingStream(options));
  stream->ring_ = ring_buffer__new(ringFd, OnRecord, stream.get(), nullptr);
  if (!stream->ring_) throw errors::FromErrno(env, errno, "opening the events ring buffer failed");

  // The tsfn's finalizer owns a reference, so the stream outlives its last delivery
  // even when the session that started it is gone.
  auto* keepAlive = new std::shared_ptr<RingStream>(stream);
  stream->tsfn_ = Tsfn::New(env, onBatch, "skbtrail ring buffer", 0, 1, stream.get(), OnFinalize, keepAlive);
  stream->worker_ = std::thread(&RingStream::Run, stream.get());
  return stream;
}

RingStream::~RingStream() { FreeRing(); }

void RingStream::FreeRing() {
  ring_buffer__free(ring_);
  ring_ = nullptr;
}

Napi::Promise RingStream::Stop(Napi::Env env) {
  auto deferred = Napi::Promise::Deferred::New(env);
  if (finalized_) {
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  stopWaiters_.push_back(deferred);
  stopping_ = true;
  cv_.notify_all();
  return deferred.Promise();
}

void RingStream::Abort() {
  aborting_ = true;
  stopping_ = true;
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  FreeRing();
}

void RingStream::Run() {
  while (!stopping_) {
    int timeoutMs = kPollSliceMs;
    if (!batch_->empty()) {
      auto due = batchStarted_ + std::chrono::milliseconds(options_.maxBatchMs);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due - Clock::now()).count();
      timeoutMs = static_cast<int>(std::clamp<long long>(left, 0, kPollSliceMs));
    }
    int n = ring_buffer__poll(ring_, timeoutMs);
    // The BPF side wakes us only every WAKE_EVERY events per CPU (see wakeup_flag): a
    // poll that timed out still reads whatever is waiting.
    if (n == 0) n = ring_buffer__consume(ring_);
    if (n < 0 && n != -EINTR) {
      pollError_ = -n;
      break;
    }
    if (!batch_->empty() && Clock::now() - batchStarted_ >= std::chrono::milliseconds(options_.maxBatchMs)) Deliver();
  }
  if (!aborting_) {
    if (!pollError_) ring_buffer__consume(ring_);
    if (!batch_->empty()) Deliver();
  }
  // The worker holds the tsfn's only thread reference: releasing it lets the tsfn
  // finalize once the JS thread has run every queued delivery.
  if (aborting_)
    tsfn_.Abort();
  else
    tsfn_.Release();
}

int RingStream::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RingStream*>(ctx);
  if (size < sizeof(skbtrail_event)) return 0;
  const auto* ev = static_cast<const skbtrail_event*>(data);
  size_t headerLen = std::min<size_t>(ev->cap_len, size - sizeof(skbtrail_event));

  Batch& batch = *self->batch_;
  if (batch.empty()) self->batchStarted_ = Clock::now();
  int32_t comm = self->comms_.Intern(ev->comm, sizeof(ev->comm), &batch.newComms);
  batch.Append(*ev, reinterpret_cast<const uint8_t*>(ev + 1), headerLen, comm);
  size_t skbLen = std::min<size_t>(ev->skb_len, size - sizeof(skbtrail_event) - headerLen);
  if (skbLen) batch.AppendSkb(reinterpret_cast<const uint8_t*>(ev + 1) + headerLen, skbLen);
  if (batch.size() >= self->options_.maxBatchEvents) self->Deliver();
  return 0;
}

void RingStream::Deliver() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return inFlight_ < kMaxInFlight || aborting_; });
    if (aborting_) return;
    inFlight_++;
  }
  Batch* batch = batch_.release();
  batch_ = std::make_unique<Batch>(options_.maxBatchEvents);
  if (tsfn_.NonBlockingCall(batch) != napi_ok) {
    delete batch;
    std::lock_guard<std::mutex> lock(mutex_);
    inFlight_--;
  }
}

void DeliverBatchToJs(Napi::Env env, Napi::Function onBatch, RingStream* stream, Batch* raw) {
  std::unique_ptr<Batch> batch(raw);
  if (env == nullptr) return;  // the tsfn is being torn down: drop what is still queued
  {
    std::lock_guard<std::mutex> lock(stream->mutex_);
    stream->inFlight_--;
  }
  stream->cv_.notify_all();
  if (stream->aborting_) return;
  onBatch.Call({batch->ToJs(env)});
}

void RingStream::OnFinalize(Napi::Env env, std::shared_ptr<RingStream>* keepAlive, RingStream* stream) {
  std::unique_ptr<std::shared_ptr<RingStream>> release(keepAlive);
  if (stream->worker_.joinable()) stream->worker_.join();
  stream->FreeRing();
  stream->finalized_ = true;
  for (auto& waiter : stream->stopWaiters_) {
    if (stream->pollError_)
      waiter.Reject(errors::FromErrno(env, stream->pollError_, "reading the events ring buffer failed").Value());
    else
      waiter.Resolve(env.Undefined());
  }
  stream->stopWaiters_.clear();
}
