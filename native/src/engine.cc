#include "engine.h"

#include <algorithm>


namespace xlam {

Engine::~Engine() {
  scheduler_.reset();
  forward_.reset();  // scratch and cache go before the model and the backend
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
  *out = std::move(e);
  return Status::Ok();
}

EngineInfo Engine::info() const {
  EngineInfo i;
  i.backend = backend_->name();
  i.hparams = model_->hparams();
  i.weights = model_->weight_stats();
  i.kv_cache_tokens = cache_->capacity_tokens();
  i.block_size = cache_->shape().block_size;
  return i;
}

Status Engine::generate(const GenerateRequest& req, GenerateResult* res) {
  std::lock_guard<std::mutex> lock(mu_);
  *res = GenerateResult{};
  res->finish_reason = "length";
  if (req.max_tokens < 0) return Status::Error(Code::kInvalidArgument, "maxTokens must be >= 0");
  RequestParams p;
  p.prompt = req.prompt;
  p.max_tokens = std::max<int64_t>(req.max_tokens, 1);
  p.sampling.temperature = 0;  // greedy
  p.stop_ids = req.stop_ids;
  p.top_logprobs = req.top_logprobs;
  const uint64_t id = next_id_++;
  XLAM_TRY(scheduler_->add(id, std::move(p)));
  if (req.max_tokens == 0) {  // validated like any request, then nothing to generate
    scheduler_->cancel(id);
    std::vector<RequestEvent> events;
    return scheduler_->step(&events);
  }
  std::vector<RequestEvent> events;
  for (;;) {
    XLAM_TRY(scheduler_->step(&events));
    for (RequestEvent& e : events) {
      if (e.id != id) continue;
      if (e.token >= 0) {
        res->tokens.push_back(e.token);
        if (req.top_logprobs > 0) res->top_logprobs.push_back(std::move(e.top_logprobs));
      }
      if (e.finish == FinishReason::kError) return e.error;
      if (e.finish != FinishReason::kNone) {
        res->finish_reason = finish_reason_name(e.finish);
        return Status::Ok();
      }
    }
  }
}

}  // namespace xlam
