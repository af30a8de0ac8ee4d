#include "engine.h"

#include <algorithm>

#include "thread-priority.h"


namespace xlam {

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

Status Engine::submit(RequestParams params, RequestHandler handler, uint64_t* id) {
  XLAM_TRY(scheduler_->validate(params));
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::Error(Code::kEngineClosed, "the engine is closed");
  *id = next_id_++;
  inbox_.push_back(Op{Op::kAdd, *id, std::move(params), std::move(handler)});
  cv_.notify_one();
  return Status::Ok();
}

void Engine::cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  inbox_.push_back(Op{Op::kCancel, id, {}, {}});
  cv_.notify_one();
}

void Engine::set_paused(uint64_t id, bool paused) {
  std::lock_guard<std::mutex> lock(mu_);
  inbox_.push_back(Op{paused ? Op::kPause : Op::kResume, id, {}, {}});
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

void Engine::run() {
  set_compute_priority(options_.compute_priority);
  std::vector<Op> ops;
  std::vector<RequestEvent> events;
  bool has_work = false;
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
    for (Op& op : ops) {
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
      }
    }
    ops.clear();
    if (scheduler_->has_work()) scheduler_->step(&events);  // a failed pass fails its requests via events
    has_work = scheduler_->has_work();
    {
      // Before the handlers run: a caller woken by a request's last event sees stats that
      // already count it (its blocks freed, its tokens generated).
      std::lock_guard<std::mutex> lock(mu_);
      stats_ = scheduler_->stats();
    }
    for (const RequestEvent& e : events) {
      auto it = handlers_.find(e.id);
      if (it == handlers_.end()) continue;
      it->second(e);
      if (e.finish != FinishReason::kNone) handlers_.erase(it);
    }
    if (hook) hook();
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
