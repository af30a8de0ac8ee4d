#include "engine.h"

#include <algorithm>
#include <exception>
#include <new>
#include <stdexcept>

#include "fault-injection.h"
#include "thread-priority.h"

namespace xlam {

namespace {

// The status of the exception being handled (call inside a catch block): the engine thread turns
// what a step throws into error events instead of letting it end the process.
Status current_exception_status() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return Status::Error(Code::kOutOfMemory, "out of memory in the engine thread");
  } catch (const std::exception& e) {
    return Status::Error(Code::kInternal, std::string("engine thread: ") + e.what());
  } catch (...) {
    return Status::Error(Code::kInternal, "engine thread: unknown native exception");
  }
}

}  // namespace

Engine::~Engine() {
  close();
  scheduler_.reset();  // scheduler, scratch and cache go before the model and the backend
  forward_.reset();
  cache_.reset();
  model_.reset();
  backend_.reset();
}

Status Engine::load(const std::string& dir, const EngineOptions& options, std::unique_ptr<Backend> backend,
                    std::unique_ptr<Engine>* out) {
  if (options.block_size <= 0 || options.block_size > 1024)
    return Status::Error(Code::kInvalidArgument, "blockSize must be in 1..1024");
  if (options.max_batch_tokens <= 0) return Status::Error(Code::kInvalidArgument, "maxBatchTokens must be positive");
  fault::point("load");
  std::unique_ptr<Engine> e(new Engine());
  e->options_ = options;
  e->backend_ = std::move(backend);
  XLAM_TRY(Model::load(dir, e->backend_.get(), &e->model_));
  const Hparams& hp = e->model_->hparams();
  int64_t tokens = options.kv_cache_tokens > 0 ? options.kv_cache_tokens : std::min<int64_t>(hp.n_ctx_train, 4096);
  KvCacheShape shape;
  shape.n_layers = hp.n_layer;
  shape.n_kv_heads = hp.n_head_kv;
  shape.head_dim = hp.head_dim;
  shape.block_size = options.block_size;
  shape.n_blocks = (tokens + options.block_size - 1) / options.block_size;
  e->cache_ = std::make_unique<KvCache>();
  XLAM_TRY(e->cache_->init(e->backend_.get(), shape));
  e->forward_ = std::make_unique<Forward>(e->model_.get(), e->cache_.get());
  SchedulerOptions so;
  so.max_batch_tokens = options.max_batch_tokens;
  so.max_sequences = options.max_sequences;
  so.max_context = hp.n_ctx_train;
  e->scheduler_ = std::make_unique<Scheduler>(e->forward_.get(), e->cache_.get(), so);
  e->stats_ = e->scheduler_->stats();
  Engine* self = e.get();
  e->thread_ = std::thread([self] { self->run(); });
  *out = std::move(e);
  return Status::Ok();
}

EngineInfo Engine::info() const {
  EngineInfo i;
  i.backend = backend_->name();
  i.kernels = backend_->kernels();
  i.backend_note = options_.backend_note;
  i.hparams = model_->hparams();
  i.weights = model_->weight_stats();
  i.kv_cache_tokens = cache_->capacity_tokens();
  i.block_size = cache_->shape().block_size;
  return i;
}

SchedulerStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Engine::set_step_hook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  step_hook_ = std::move(hook);
}

Status Engine::set_token_bytes(std::vector<uint8_t> data, std::vector<uint32_t> offsets, std::vector<uint8_t> allowed) {
  const int64_t n_vocab = model_->hparams().n_vocab;
  const int64_t n = static_cast<int64_t>(allowed.size());
  if (static_cast<int64_t>(offsets.size()) != n + 1)
    return Status::Error(Code::kInvalidArgument, "token bytes: offsets must have one entry more than allowed");
  if (n > n_vocab)
    return Status::Error(Code::kInvalidArgument, "token bytes: " + std::to_string(n) + " ids for a vocabulary of " +
                                                     std::to_string(n_vocab));
  if (offsets[0] != 0) return Status::Error(Code::kInvalidArgument, "token bytes: offsets must start at 0");
  for (int64_t i = 0; i < n; ++i)
    if (offsets[static_cast<size_t>(i) + 1] < offsets[static_cast<size_t>(i)] || offsets[static_cast<size_t>(i) + 1] > data.size())
      return Status::Error(Code::kInvalidArgument, "token bytes: offsets must ascend within the data");
  // Ids the tokenizer does not know (the model's padded rows) have no bytes.
  offsets.resize(static_cast<size_t>(n_vocab) + 1, offsets.back());
  allowed.resize(static_cast<size_t>(n_vocab), 0);
  auto v = std::make_shared<TokenBytes>(TokenBytes{std::move(data), std::move(offsets), std::move(allowed)});
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::Error(Code::kEngineClosed, "the engine is closed");
  if (has_vocabulary_) return Status::Ok();
  has_vocabulary_ = true;
  Op op{Op::kVocabulary, 0, {}, {}, std::move(v)};
  inbox_.push_back(std::move(op));
  cv_.notify_one();
  return Status::Ok();
}

Status Engine::submit(RequestParams params, RequestHandler handler, uint64_t* id) {
  XLAM_TRY(scheduler_->validate(params));
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::Error(Code::kEngineClosed, "the engine is closed");
  if (params.grammar && !has_vocabulary_)
    return Status::Error(Code::kInvalidArgument, "a grammar request needs the vocabulary's token bytes first (setTokenBytes)");
  *id = next_id_++;
  inbox_.push_back(Op{Op::kAdd, *id, std::move(params), std::move(handler), nullptr});
  cv_.notify_one();
  return Status::Ok();
}

void Engine::cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  inbox_.push_back(Op{Op::kCancel, id, {}, {}, nullptr});
  cv_.notify_one();
}

void Engine::set_paused(uint64_t id, bool paused) {
  std::lock_guard<std::mutex> lock(mu_);
  inbox_.push_back(Op{paused ? Op::kPause : Op::kResume, id, {}, {}, nullptr});
  cv_.notify_one();
}

void Engine::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Engine::apply(Op& op) {
  switch (op.kind) {
    case Op::kAdd: {
      Status st = scheduler_->add(op.id, std::move(op.params));
      if (st.ok()) {
        handlers_[op.id] = std::move(op.handler);
      } else {  // validated at submit: only a state the caller could not see gets here
        RequestEvent e;
        e.id = op.id;
        e.finish = FinishReason::kError;
        e.error = st;
        op.handler(e);
      }
      break;
    }
    case Op::kCancel: scheduler_->cancel(op.id); break;
    case Op::kPause: scheduler_->set_paused(op.id, true); break;
    case Op::kResume: scheduler_->set_paused(op.id, false); break;
    case Op::kVocabulary: {
      const TokenBytes& v = *op.vocabulary;
      // Checked in set_token_bytes: nothing here can fail but the allocation of the trie.
      (void)scheduler_->set_vocabulary(v.data.data(), v.data.size(), v.offsets.data(), v.allowed.data(),
                                       static_cast<int64_t>(v.allowed.size()));
      break;
    }
  }
}

void Engine::deliver(const std::vector<RequestEvent>& events, const std::function<void()>& hook) {
  {
    // Before the handlers run: a caller woken by a request's last event sees stats that
    // already count it (its blocks freed, its tokens generated).
    const SchedulerStats s = scheduler_->stats();
    std::lock_guard<std::mutex> lock(mu_);
    stats_ = s;
  }
  for (const RequestEvent& e : events) {
    auto it = handlers_.find(e.id);
    if (it == handlers_.end()) continue;
    it->second(e);
    if (e.finish != FinishReason::kNone) handlers_.erase(it);
  }
  if (hook) hook();
}

void Engine::run() {
  set_compute_priority(options_.compute_priority);
  std::vector<Op> ops;
  std::vector<RequestEvent> events;
  bool has_work = false;
  int64_t last_steps = 0;  // forward passes so far
  std::function<void()> hook;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !inbox_.empty() || has_work; });
      if (stopping_) break;
      ops.swap(inbox_);
      hook = step_hook_;
    }
    events.clear();
    bool cancels = false;
    for (Op& op : ops) {
      cancels |= op.kind == Op::kCancel;
      try {
        apply(op);
      } catch (...) {
        // Only allocation can fail here. An add that threw may have left its request queued:
        // cancel it (its abort event finds no handler) and fail it through its own handler.
        Status st = current_exception_status();
        if (op.kind == Op::kAdd && op.handler) {
          scheduler_->cancel(op.id);
          RequestEvent e;
          e.id = op.id;
          e.finish = FinishReason::kError;
          e.error = st;
          op.handler(e);
        }
      }
    }
    ops.clear();
    if (cancels) {
      // Cancelled requests end now, before the next forward pass: an abort is answered within
      // the step that was running when it came, not one step later.
      scheduler_->finish_cancelled(&events);
      if (!events.empty()) deliver(events, hook);
      events.clear();
    }
    try {
      if (scheduler_->has_work()) scheduler_->step(&events);  // a failed pass fails its requests via events
    } catch (...) {
      // What a step holds is unknown after a throw: every request ends with the error (and its
      // blocks are freed); the events already reported by the step are delivered too.
      scheduler_->fail_all(current_exception_status(), &events);
    }
    const int64_t steps = scheduler_->stats().steps;
    // A step that ran no pass and ended nothing (every request left is paused, or waits for
    // blocks that paused requests hold) changes nothing until the next operation: wait for one
    // instead of spinning.
    has_work = scheduler_->has_work() && (steps != last_steps || !events.empty());
    last_steps = steps;
    deliver(events, hook);
  }
  // Closed: every request still known ends with ENGINE_CLOSED.
  std::vector<Op> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending.swap(inbox_);
  }
  RequestEvent e;
  e.finish = FinishReason::kError;
  e.error = Status::Error(Code::kEngineClosed, "the engine was closed before the request finished");
  for (Op& op : pending)
    if (op.kind == Op::kAdd) {
      e.id = op.id;
      op.handler(e);
    }
  for (auto& [id, handler] : handlers_) {
    e.id = id;
    handler(e);
  }
  handlers_.clear();
  if (hook) hook();
}

}  // namespace xlam
