#include "engine.h"

#include <algorithm>

#include "logprobs.h"

namespace xlam {

Engine::~Engine() {
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
  const Hparams& hp = model_->hparams();
  const int64_t n_prompt = static_cast<int64_t>(req.prompt.size());
  if (n_prompt == 0) return Status::Error(Code::kInvalidArgument, "the prompt is empty");
  if (req.max_tokens < 0) return Status::Error(Code::kInvalidArgument, "maxTokens must be >= 0");
  if (req.top_logprobs < 0 || req.top_logprobs > 100)
    return Status::Error(Code::kInvalidArgument, "topLogprobs must be in 0..100");
  for (int32_t id : req.prompt)
    if (id < 0 || id >= hp.n_vocab)
      return Status::Error(Code::kInvalidArgument, "prompt token id " + std::to_string(id) + " is outside the vocabulary");
  // The last generated token is never fed back, so the cache holds n_prompt + max_tokens - 1.
  const int64_t total = n_prompt + std::max<int64_t>(req.max_tokens - 1, 0);
  const int64_t limit = std::min(hp.n_ctx_train, cache_->capacity_tokens());
  if (total > limit)
    return Status::Error(Code::kContextOverflow, "prompt (" + std::to_string(n_prompt) + ") + maxTokens (" +
                                                     std::to_string(req.max_tokens) + ") exceeds the context of " +
                                                     std::to_string(limit) + " tokens");
  *res = GenerateResult{};
  res->finish_reason = "length";
  if (req.max_tokens == 0) return Status::Ok();

  SeqSlots seq;
  struct Guard {
    KvCache* c;
    SeqSlots* s;
    ~Guard() { c->free_seq(s); }
  } guard{cache_.get(), &seq};
  XLAM_TRY(cache_->reserve(&seq, total));

  ForwardBatch b;
  b.n_seqs = 1;
  std::vector<float> logits;
  std::vector<int32_t> pending(req.prompt);
  int64_t pos = 0;
  for (;;) {
    // Feed pending tokens in chunks; logits only for the last one.
    size_t off = 0;
    while (off < pending.size()) {
      const size_t n = std::min<size_t>(pending.size() - off, static_cast<size_t>(options_.max_batch_tokens));
      b.tokens.assign(pending.begin() + off, pending.begin() + off + n);
      b.positions.resize(n);
      b.token_seq.assign(n, 0);
      b.slots.resize(n);
      for (size_t i = 0; i < n; ++i) {
        b.positions[i] = static_cast<int32_t>(pos + i);
        b.slots[i] = cache_->slot(seq, pos + i);
      }
      b.max_blocks = static_cast<int64_t>(seq.blocks.size());
      b.block_tables = seq.blocks;
      b.logit_rows.assign(1, static_cast<int32_t>(n - 1));
      XLAM_TRY(forward_->run(b, &logits));
      pos += static_cast<int64_t>(n);
      off += n;
    }
    seq.n_tokens = pos;
    const int32_t next = argmax(logits.data(), hp.n_vocab);
    if (next < 0) return Status::Error(Code::kInternal, "the model produced NaN logits");
    res->tokens.push_back(next);
    if (req.top_logprobs > 0) {
      res->top_logprobs.emplace_back();
      top_logprobs(logits.data(), hp.n_vocab, req.top_logprobs, &res->top_logprobs.back());
    }
    if (std::find(req.stop_ids.begin(), req.stop_ids.end(), next) != req.stop_ids.end()) {
      res->finish_reason = "stop";
      break;
    }
    if (static_cast<int64_t>(res->tokens.size()) >= req.max_tokens) break;
    pending.assign(1, next);
  }
  return Status::Ok();
}

}  // namespace xlam
