#include "event-channel.h"

#include "convert.h"

namespace xlam::binding {

EventChannel::EventChannel(Napi::Env env, Napi::Function listener, std::function<void()> stop_producer)
    : stop_producer_(std::move(stop_producer)), env_(env) {
  listener_ = Napi::Persistent(listener);
  shared_->tsfn = Tsfn::New(env, listener, "xlam-engine-events", 0, 1, shared_.get(),
                            [](Napi::Env, std::shared_ptr<Shared>* keep, Shared*) { delete keep; },
                            new std::shared_ptr<Shared>(shared_));
  shared_->tsfn.Unref(env);  // idle until a request is submitted
  teardown_hook_ = env.AddCleanupHook(on_env_teardown, this);  // after the function: runs first
}

EventChannel::~EventChannel() { release(); }

void EventChannel::on_env_teardown(EventChannel* channel) {
  channel->tearing_down_ = true;  // Node removes this hook itself
  channel->stop_producer_();
  channel->release();
}

void EventChannel::track(Napi::Env env) {
  if (shared_->outstanding++ == 0 && !shared_->released) shared_->tsfn.Ref(env);
}

RequestHandler EventChannel::handler() {
  std::shared_ptr<Shared> shared = shared_;
  return [shared](const RequestEvent& e) {
    std::lock_guard<std::mutex> lock(shared->mu);
    try {
      shared->events.push_back(e);
    } catch (...) {  // out of memory: the event is lost, but the engine thread lives on
    }
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
    shared->tsfn.NonBlockingCall();
  };
}

void EventChannel::call_js(Napi::Env env, Napi::Function listener, Shared* shared, void*) {
  if (env != nullptr) deliver(*shared, env, listener);
}

void EventChannel::deliver(Shared& shared, Napi::Env env, Napi::Function listener) {
  std::vector<RequestEvent> events;
  {
    std::lock_guard<std::mutex> lock(shared.mu);
    events.swap(shared.events);
    shared.scheduled = false;
  }
  if (events.empty()) return;
  Napi::Array batch = Napi::Array::New(env, events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    batch.Set(static_cast<uint32_t>(i), event_to_js(env, events[i]));
    if (events[i].finish != FinishReason::kNone && --shared.outstanding == 0 && !shared.released)
      shared.tsfn.Unref(env);
  }
  listener.Call({batch});
}

void EventChannel::drain(Napi::Env env) {
  if (!listener_.IsEmpty()) deliver(*shared_, env, listener_.Value());
}

void EventChannel::release() {
  if (shared_->released) return;
  shared_->released = true;
  shared_->tsfn.Release();
  if (!tearing_down_ && !teardown_hook_.IsEmpty()) teardown_hook_.Remove(env_);
}

}  // namespace xlam::binding
