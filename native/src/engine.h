// The engine: a loaded model, its backend and KV cache, and generation.
// (The scheduler with continuous batching arrives with the serving issue; for now requests
// run one at a time, each in its own sequence of the paged cache.)
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "backend.h"
#include "forward.h"
#include "kv-cache.h"
#include "model.h"
#include "scheduler.h"

namespace xlam {

struct EngineOptions {
  std::string backend = "cpu";   // "cpu" or "cpu-reference"
  int threads = 0;               // 0: all cores
  int64_t block_size = 16;       // tokens per KV block
  int64_t kv_cache_tokens = 0;   // 0: min(max_position_embeddings, 4096)
  int64_t max_batch_tokens = 512;  // tokens per forward pass (prefill chunks and decodes together)
  int64_t max_sequences = 64;      // requests running at once
};

struct GenerateRequest {
  std::vector<int32_t> prompt;  // token ids
  int64_t max_tokens = 16;
  int32_t top_logprobs = 0;     // k best (id, logprob) pairs per step
  std::vector<int32_t> stop_ids;  // stop after emitting one of these (empty: never)
};

struct GenerateResult {
  std::vector<int32_t> tokens;
  std::vector<std::vector<std::pair<int32_t, float>>> top_logprobs;  // [n_steps][k]
  std::string finish_reason;  // "length" or "stop"
};

struct EngineInfo {
  std::string backend;
  int threads = 0;
  Hparams hparams;
  WeightStats weights;
  int64_t kv_cache_tokens = 0;
  int64_t block_size = 0;
};

class Engine {
 public:
  static Status load(const std::string& dir, const EngineOptions& options, std::unique_ptr<Backend> backend,
                     std::unique_ptr<Engine>* out);
  ~Engine();

  Status generate(const GenerateRequest& request, GenerateResult* result);
  EngineInfo info() const;

 private:
  Engine() = default;

  EngineOptions options_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<KvCache> cache_;
  std::unique_ptr<Forward> forward_;
  std::unique_ptr<Scheduler> scheduler_;
  uint64_t next_id_ = 1;
  std::mutex mu_;  // one generation at a time (the engine thread of the serving API replaces this)
};

}  // namespace xlam
