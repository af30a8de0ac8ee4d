// The engine: a loaded model, its backend, KV cache and scheduler, and one engine thread that
// runs the scheduler's steps. Callers on any thread submit, cancel and pause requests through a
// short-locked inbox (never waiting for a forward pass); events come back through per-request
// handlers called on the engine thread, then a per-step hook (the binding batches them there).
#pragma once
#include <cstdint>
#include <memory>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <string>
#include <utility>
#include <vector>

#include "backend.h"
#include "forward.h"
#include "kv-cache.h"
#include "model.h"
#include "scheduler.h"
#include "thread-priority.h"

namespace xlam {

struct EngineOptions {
  std::string backend = "cpu";   // a registered backend: "cpu", "cpu-reference", "cuda", "cuda-emulated"
  // Why the engine runs on this backend rather than a faster one (automatic selection on a
  // machine where CUDA cannot run); reported by info().
  std::string backend_note;
  int threads = 0;               // 0: all cores
  int64_t block_size = 16;       // tokens per KV block
  int64_t kv_cache_tokens = 0;   // 0: min(max_position_embeddings, 4096)
  int64_t max_batch_tokens = 512;  // tokens per forward pass (prefill chunks and decodes together)
  int64_t max_sequences = 64;      // requests running at once
  ComputePriority compute_priority = ComputePriority::kIdle;  // engine and compute threads
};

struct EngineInfo {
  std::string backend;
  std::string kernels;  // the backend's kernel set
  std::string backend_note;  // EngineOptions::backend_note
  int threads = 0;
  Hparams hparams;
  WeightStats weights;
  int64_t kv_cache_tokens = 0;
  int64_t block_size = 0;
};

// Called on the engine thread with each event of its request; the last one has finish set.
using RequestHandler = std::function<void(const RequestEvent&)>;

struct TokenBytes {
  std::vector<uint8_t> data;
  std::vector<uint32_t> offsets;  // n_vocab + 1
  std::vector<uint8_t> allowed;   // n_vocab
};

class Engine {
 public:
  static Status load(const std::string& dir, const EngineOptions& options, std::unique_ptr<Backend> backend,
                     std::unique_ptr<Engine>* out);
  ~Engine();  // close()

  // Validates the request now (typed error, nothing queued) and queues it; *id names it.
  Status submit(RequestParams params, RequestHandler handler, uint64_t* id);
  // The vocabulary's token bytes for grammar requests: token i is data[offsets[i] .. offsets[i+1]),
  // allowed[i] != 0 when a grammar may emit it (ids past the arrays: none). Checked here, built
  // into a trie on the engine thread before the next request is added. Once per engine; later
  // calls are ignored.
  Status set_token_bytes(std::vector<uint8_t> data, std::vector<uint32_t> offsets, std::vector<uint8_t> allowed);
  // Takes effect at the next step: the request ends with an abort event.
  void cancel(uint64_t id);
  // A paused request keeps its place and KV blocks but is not scheduled (backpressure).
  void set_paused(uint64_t id, bool paused);
  // Called on the engine thread after the handlers of each step ran.
  void set_step_hook(std::function<void()> hook);
  // Stops the engine thread; requests not finished end with an ENGINE_CLOSED error event.
  // Later submits fail with ENGINE_CLOSED. Idempotent.
  void close();

  EngineInfo info() const;
  SchedulerStats stats() const;

 private:
  Engine() = default;
  void run();

  struct Op {
    enum Kind { kAdd, kCancel, kPause, kResume, kVocabulary } kind;
    uint64_t id;
    RequestParams params;
    RequestHandler handler;
    std::shared_ptr<const TokenBytes> vocabulary;  // kVocabulary
  };
  // Applies one operation of the inbox (engine thread); may throw std::bad_alloc.
  void apply(Op& op);
  // Publishes the stats, then hands each event to its request's handler and calls the step hook.
  void deliver(const std::vector<RequestEvent>& events, const std::function<void()>& hook);

  EngineOptions options_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<KvCache> cache_;
  std::unique_ptr<Forward> forward_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unordered_map<uint64_t, RequestHandler> handlers_;  // engine thread only
  std::function<void()> step_hook_;                        // engine thread only after start

  mutable std::mutex mu_;  // guards the fields below; never held during a step
  std::condition_variable cv_;
  std::vector<Op> inbox_;
  bool stopping_ = false;
  bool closed_ = false;
  bool has_vocabulary_ = false;
  uint64_t next_id_ = 1;
  SchedulerStats stats_;
  std::thread thread_;
};

}  // namespace xlam
