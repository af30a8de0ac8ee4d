#include "event-channel.h"

#include "convert.h"

namespace xlam::binding {

EventChannel::EventChannel(Napi::Env env, Napi::Function listener) {
  listener_ = Napi::Persistent(listener);
  shared_->tsfn = Napi::ThreadSafeFunction::New(env, listener, "xlam-engine-events", 0, 1);
  shared_->tsfn.Unref(env);  // idle until a request is submitted
}

EventChannel::~EventChannel() { release(); }

void EventChannel::track(Napi::Env env) {
  if (shared_->outstanding++ == 0 && !shared_->released) shared_->tsfn.Ref(env);
}

RequestHandler EventChannel::handler() {
  std::shared_ptr<Shared> shared = shared_;
  return [shared](const RequestEvent& e) {
    std::lock_guard<std::mutex> lock(shared->mu);
    shared->events.push_back(e);
  };
}

std::function<void()> EventChannel::hook() {
  std::shared_ptr<Shared> shared = shared_;
  return [shared]() {
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      if (shared->events.empty() || shared->scheduled) return;
      shared->scheduled = true;
    }
    // One pending delivery at a time: it takes everything queued when it runs.
    shared->tsfn.NonBlockingCall(
        [shared](Napi::Env env, Napi::Function listener) { deliver(shared, env, listener); });
  };
}

void EventChannel::deliver(const std::shared_ptr<Shared>& shared, Napi::Env env, Napi::Function listener) {
  std::vector<RequestEvent> events;
  {
    std::lock_guard<std::mutex> lock(shared->mu);
    events.swap(shared->events);
    shared->scheduled = false;
  }
  if (events.empty()) return;
  Napi::Array batch = Napi::Array::New(env, events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    batch.Set(static_cast<uint32_t>(i), event_to_js(env, events[i]));
    if (events[i].finish != FinishReason::kNone && --shared->outstanding == 0 && !shared->released)
      shared->tsfn.Unref(env);
  }
  listener.Call({batch});
}

void EventChannel::drain(Napi::Env env) {
  if (!listener_.IsEmpty()) deliver(shared_, env, listener_.Value());
}

void EventChannel::release() {
  if (shared_->released) return;
  shared_->released = true;
  shared_->tsfn.Release();
}

}  // namespace xlam::binding
