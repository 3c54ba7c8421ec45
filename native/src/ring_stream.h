// Drains the events ring buffer on a worker thread and delivers batches to a
// JavaScript callback through a thread-safe function. Never one JS object per event.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "batch.h"
#include "comm_table.h"

class RingStream;
void DeliverBatchToJs(Napi::Env env, Napi::Function onBatch, RingStream* stream, Batch* batch);

class RingStream {
 public:
  struct Options {
    size_t maxBatchEvents = 8192;  // deliver when a batch holds this many events
    int maxBatchMs = 100;          // or when its first event is this old
  };

  // Starts the worker on the ring buffer map behind ringFd. Throws Napi::Error.
  static std::shared_ptr<RingStream> Start(Napi::Env env, int ringFd, Napi::Function onBatch, const Options& options);
  ~RingStream();

  // JS thread. The worker stops polling, drains what the ring buffer still holds and
  // delivers it; the promise resolves after that last delivery (or rejects if polling
  // failed). Calling it again returns a promise settled at the same moment.
  Napi::Promise Stop(Napi::Env env);

  // JS thread. Ends the worker now, dropping undelivered events; returns once it has
  // exited. For close(), finalizers and process exit.
  void Abort();

 private:
  friend void DeliverBatchToJs(Napi::Env, Napi::Function, RingStream*, Batch*);
  using Tsfn = Napi::TypedThreadSafeFunction<RingStream, Batch, DeliverBatchToJs>;
  using Clock = std::chrono::steady_clock;

  explicit RingStream(const Options& options) : options_(options), batch_(std::make_unique<Batch>(options.maxBatchEvents)) {}
  static int OnRecord(void* ctx, void* data, size_t size);
  static void OnFinalize(Napi::Env env, std::shared_ptr<RingStream>* keepAlive, RingStream* stream);
  void Run();
  void Deliver();
  void FreeRing();

  const Options options_;
  ring_buffer* ring_ = nullptr;
  Tsfn tsfn_;
  std::thread worker_;

  // Worker thread only.
  std::unique_ptr<Batch> batch_;
  Clock::time_point batchStarted_;
  CommTable comms_;

  // Bounds how many batches wait for the JS thread: when it falls behind, the worker
  // stops reading, the ring buffer fills and the BPF side counts lost events, instead
  // of this process growing without limit.
  static constexpr int kMaxInFlight = 4;
  std::mutex mutex_;
  std::condition_variable cv_;
  int inFlight_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> aborting_{false};
  int pollError_ = 0;  // written by the worker before it releases the tsfn

  // JS thread only.
  std::vector<Napi::Promise::Deferred> stopWaiters_;
  bool finalized_ = false;
};
