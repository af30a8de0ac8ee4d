// Carries the engine thread's events to JS in batches: request handlers append to a queue on
// the engine thread; after each step the engine's hook schedules one call of the JS listener (a
// thread-safe function) with every event queued so far. The listener keeps the event loop alive
// only while requests are outstanding.
#pragma once
#include <napi.h>

#include <memory>
#include <mutex>
#include <vector>

#include "../src/engine.h"

namespace xlam::binding {

class EventChannel {
 public:
  EventChannel(Napi::Env env, Napi::Function listener);
  ~EventChannel();

  // For Engine::submit: queues the request's events (engine thread).
  RequestHandler handler();
  // Counts a submitted request until its final event is delivered (JS thread).
  void track(Napi::Env env);
  // The engine's step hook: schedules a delivery if events are queued (engine thread).
  std::function<void()> hook();
  // Delivers queued events now (JS thread), e.g. right after Engine::close().
  void drain(Napi::Env env);
  // Stops deliveries for good (JS thread).
  void release();

 private:
  // Everything a queued delivery touches, so it outlives the channel.
  struct Shared {
    std::mutex mu;
    std::vector<RequestEvent> events;  // guarded by mu
    bool scheduled = false;            // guarded by mu
    Napi::ThreadSafeFunction tsfn;
    int64_t outstanding = 0;  // JS thread only
    bool released = false;    // JS thread only
  };
  static void deliver(const std::shared_ptr<Shared>& shared, Napi::Env env, Napi::Function listener);

  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  Napi::FunctionReference listener_;
};

}  // namespace xlam::binding
