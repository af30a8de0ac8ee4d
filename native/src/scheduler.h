// The scheduler, after vLLM's: no prefill or decode phase. Each request has tokens computed (KV
// in the cache) and tokens needed; each step hands out a token budget so computed catches up
// with needed, running requests first (in arrival order), then waiting ones. Chunked prefill,
// prefix-cache hits and preemption (the newest request gives its blocks back and is recomputed
// later) all fall out of that one loop. One forward pass per step for every scheduled request.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "grammar/byte-grammar.h"
#include "grammar/matcher.h"
#include "kv-cache.h"
#include "model-runner.h"
#include "sample.h"

namespace xlam {

struct RequestParams {
  std::vector<int32_t> prompt;    // token ids
  int64_t max_tokens = 16;        // tokens to generate at most
  SamplingParams sampling;
  std::vector<int32_t> stop_ids;  // finish with "stop" after generating one of these (EOS ...)
  int32_t top_logprobs = 0;       // k best (id, logprob) pairs of the raw log-softmax per token
  // The output must be a sentence of this grammar (null: free): tokens outside it are masked,
  // stop ids are allowed only where it is complete, the request stops when nothing can follow,
  // and bytes it forces are appended without sampling (see GrammarMatcher::forced_tokens).
  std::shared_ptr<const ByteGrammar> grammar;
};

enum class FinishReason { kNone, kStop, kLength, kAbort, kError };
const char* finish_reason_name(FinishReason r);

// What a step reports for one request: a new token, and/or the end of the request.
struct RequestEvent {
  uint64_t id = 0;
  int32_t token = -1;  // -1: no token in this event
  std::vector<std::pair<int32_t, float>> top_logprobs;
  bool has_top_logprobs = false;  // the request asked for them (a forced token has none: empty)
  FinishReason finish = FinishReason::kNone;
  Status error;  // with kError
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // prompt tokens found in the prefix cache
  int64_t completion_tokens = 0;
};

struct SchedulerOptions {
  int64_t max_batch_tokens = 512;  // tokens per forward pass
  int64_t max_sequences = 64;      // running requests at once
  int64_t max_context = 0;         // positions per sequence (the model's context)
};

struct SchedulerStats {
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;
  int64_t kv_blocks_cached = 0;
  int64_t prefix_cache_hit_tokens = 0;
  int64_t prompt_tokens_computed = 0;
  int64_t generated_tokens = 0;
  int64_t steps = 0;
  int64_t preemptions = 0;
  int64_t forward_ns = 0;              // time in forward passes
  int64_t sample_ns = 0;               // time after them: sampling, masks, grammar bookkeeping
  int64_t grammar_masks = 0;           // token masks computed for constrained requests
  int64_t grammar_mask_ns = 0;         // time spent computing them
  int64_t grammar_entries_built = 0;   // per-position mask entries built by a trie walk
  int64_t grammar_entries_shared = 0;  // found in the engine-wide cache instead
  int64_t grammar_forced_tokens = 0;   // tokens appended because the grammar forced them
};

class Scheduler {
 public:
  Scheduler(ModelRunner* runner, KvCache* cache, const SchedulerOptions& options);
  ~Scheduler();

  // The checks add() makes, without queueing: usable from any thread (they read nothing the
  // scheduler changes).
  Status validate(const RequestParams& params) const;
  // Queues a request. INVALID_ARGUMENT for bad ids or sampling parameters, CONTEXT_OVERFLOW
  // when prompt + max_tokens cannot fit one sequence (the context or the whole KV cache).
  // Also INVALID_ARGUMENT for an id already in use.
  Status add(uint64_t id, RequestParams params);
  // Ends a request at the next step (its blocks are freed, an abort event is reported).
  void cancel(uint64_t id);
  // A paused request keeps its place and blocks but is not scheduled.
  void set_paused(uint64_t id, bool paused);
  bool has_work() const;
  // One forward pass. Per-request failures are reported as events; a failing forward pass
  // fails every request it held and is returned.
  Status step(std::vector<RequestEvent>* events);
  // Ends the requests cancelled since the last step now (abort events, blocks freed), so the
  // engine can answer them before its next forward pass; step() does it too.
  void finish_cancelled(std::vector<RequestEvent>* events);
  // Ends every request with an error event carrying `error` and frees its blocks: what the
  // engine does when a step threw (its requests' state is then unknown).
  void fail_all(const Status& error, std::vector<RequestEvent>* events);
  SchedulerStats stats() const;
  // The scheduler's and the KV cache's invariants (for tests; O(blocks + requests)): every request
  // is running or waiting, once; a waiting request holds no block; each block's reference count
  // is the number of block tables holding it; a block in two tables is a cached prefix block at
  // the same place in each; computed tokens fit the blocks held. Empty when they hold.
  std::string check_invariants() const;
  // The vocabulary's token bytes for grammars (VocabTrie::build); before any grammar request.
  Status set_vocabulary(const uint8_t* data, size_t data_len, const uint32_t* offsets, const uint8_t* allowed, int64_t n_vocab);

 private:
  struct Request;
  struct Scheduled {
    Request* r;
    int64_t n;  // tokens computed this step
  };

  void finish(Request* r, FinishReason reason, std::vector<RequestEvent>* events, Status error = Status::Ok());
  void preempt(Request* r);
  bool schedule_running(std::vector<Scheduled>* out, int64_t* budget);
  void schedule_waiting(std::vector<Scheduled>* out, int64_t* budget);
  void sample_token(Request* r, const float* logits, std::vector<RequestEvent>* events);
  // Appends a token to the output (event, penalties) and ends the request when it should.
  // False when the request finished.
  bool append_token(Request* r, int32_t token, RequestEvent e, std::vector<RequestEvent>* events);

  ModelRunner* runner_;
  KvCache* cache_;
  SchedulerOptions options_;
  std::unordered_map<uint64_t, std::unique_ptr<Request>> requests_;
  std::deque<Request*> running_;  // arrival order
  std::deque<Request*> waiting_;  // preempted requests go back to the front
  uint64_t arrivals_ = 0;
  SchedulerStats stats_;
  std::vector<float> logits_;
  GrammarContext grammar_;
  std::vector<float> row_;       // the logits row being sampled
  std::vector<uint64_t> mask_;
  std::vector<int32_t> forced_;
};

}  // namespace xlam
