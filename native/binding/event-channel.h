// Carries the engine thread's events to JS in batches: request handlers append to a queue on
// the engine thread; after each step the engine's hook schedules one call of the JS listener (a
// thread-safe function) with every event queued so far. The listener keeps the event loop alive
// only while requests are outstanding.
//
// Teardown of the JS environment (a Worker that ends or is terminated, process exit) runs the
// channel's cleanup hook before Node finalizes the thread-safe function (hooks run last-in
// first-out, and the hook is added after the function is made): it stops the producer (the
// engine thread) and releases the function, so no thread ever calls a finalized one.
#pragma once
#include <napi.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "../src/engine.h"

namespace xlam::binding {

class EventChannel {
 public:
  // stop_producer: stops for good whatever calls hook() (joins the engine thread).
  EventChannel(Napi::Env env, Napi::Function listener, std::function<void()> stop_producer);
  ~EventChannel();

  // For Engine::submit: queues the request's events (engine thread).
  RequestHandler handler();
  // Counts a submitted request until its final event is delivered (JS thread).
  void track(Napi::Env env);
  // The engine's step hook: schedules a delivery if events are queued (engine thread).
  std::function<void()> hook();
  // Delivers queued events now (JS thread), e.g. right after Engine::close().
  void drain(Napi::Env env);
  // Stops deliveries for good (JS thread); the producer must be stopped already.
  void release();

 private:
  struct Shared;
  // The thread-safe function's callback; env is null when Node drops a queued call at teardown.
  static void call_js(Napi::Env env, Napi::Function listener, Shared* shared, void* unused);
  using Tsfn = Napi::TypedThreadSafeFunction<Shared, void, call_js>;

  // Everything a queued delivery touches, so it outlives the channel (the function's finalizer
  // holds a reference until Node is done with it).
  struct Shared {
    std::mutex mu;
    std::vector<RequestEvent> events;  // guarded by mu
    bool scheduled = false;            // guarded by mu
    Tsfn tsfn;
    int64_t outstanding = 0;  // JS thread only
    bool released = false;    // JS thread only
  };
  static void deliver(Shared& shared, Napi::Env env, Napi::Function listener);
  static void on_env_teardown(EventChannel* channel);

  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  Napi::FunctionReference listener_;
  std::function<void()> stop_producer_;
  napi_env env_;
  Napi::Env::CleanupHook<void (*)(EventChannel*), EventChannel> teardown_hook_;
  bool tearing_down_ = false;
};

}  // namespace xlam::binding
