// The scheduler on real tiny models (the fixtures of scripts/make-fixtures.mjs, found through
// XLAM_FIXTURES or test/fixtures/models): continuous batching gives every request exactly the
// tokens it gets alone, prefix caching shares blocks without changing outputs, and preemption
// under a small KV cache completes every request with the same outputs.
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "../cpu/cpu-backend.h"
#include "../src/forward.h"
#include "../src/kv-cache.h"
#include "../src/model.h"
#include "../src/scheduler.h"
#include "check.h"

using namespace xlam;

namespace {

std::string fixture(const std::string& name) {
  const char* dir = std::getenv("XLAM_FIXTURES");
  return std::string(dir ? dir : "test/fixtures/models") + "/" + name;
}

struct Harness {
  cpu::CpuBackend backend{cpu::CpuOptions{2, false}};
  std::unique_ptr<Model> model;
  KvCache cache;
  std::unique_ptr<Forward> forward;
  std::unique_ptr<Scheduler> sched;
  bool ok = false;

  Harness(const std::string& name, int64_t kv_blocks, int64_t max_batch_tokens) {
    Status st = Model::load(fixture(name), &backend, &model);
    CHECK_MSG(st.ok(), "loading %s: %s (run `npm test`, which makes the fixtures)", name.c_str(), st.message.c_str());
    if (!st.ok()) return;
    const Hparams& hp = model->hparams();
    CHECK(cache.init(&backend, KvCacheShape{hp.n_layer, hp.n_head_kv, hp.head_dim, 16, kv_blocks}).ok());
    forward = std::make_unique<Forward>(model.get(), &cache);
    SchedulerOptions so;
    so.max_batch_tokens = max_batch_tokens;
    so.max_sequences = 64;
    so.max_context = hp.n_ctx_train;
    sched = std::make_unique<Scheduler>(forward.get(), &cache, so);
    ok = true;
  }

  // Runs until idle; tokens and final events per request id.
  void run(std::map<uint64_t, std::vector<int32_t>>* tokens, std::map<uint64_t, RequestEvent>* done) {
    std::vector<RequestEvent> events;
    for (int guard = 0; sched->has_work() && guard < 100000; ++guard) {
      CHECK(sched->step(&events).ok());
      for (RequestEvent& e : events) {
        if (e.token >= 0) (*tokens)[e.id].push_back(e.token);
        if (e.finish != FinishReason::kNone) (*done)[e.id] = e;
      }
    }
  }
};

std::vector<RequestParams> workload(int64_t n_vocab, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> shared(40);
  for (auto& t : shared) t = static_cast<int32_t>(3 + rng() % 30000 % (n_vocab - 3));
  std::vector<RequestParams> out;
  for (int i = 0; i < n; ++i) {
    RequestParams p;
    if (i % 3 == 0) p.prompt = shared;  // some share a prefix
    const int extra = static_cast<int>(1 + rng() % 90);
    for (int k = 0; k < extra; ++k) p.prompt.push_back(static_cast<int32_t>(3 + rng() % 30000 % (n_vocab - 3)));
    p.max_tokens = 6 + static_cast<int64_t>(rng() % 10);
    if (i % 2 == 0) {
      p.sampling.temperature = 0;
    } else {
      p.sampling.temperature = 0.9f;
      p.sampling.top_p = 0.95f;
      p.sampling.seed = 1000 + static_cast<uint64_t>(i);
    }
    p.top_logprobs = 2;
    out.push_back(p);
  }
  return out;
}

void check_batched_equals_alone(const std::string& name) {
  Harness probe(name, 256, 64);
  if (!probe.ok) return;
  const auto reqs = workload(probe.model->hparams().n_vocab, 16, 11);
  std::map<uint64_t, std::vector<int32_t>> alone;
  for (size_t i = 0; i < reqs.size(); ++i) {
    Harness h(name, 256, 64);
    CHECK(h.sched->add(i, reqs[i]).ok());
    std::map<uint64_t, RequestEvent> done;
    h.run(&alone, &done);
    CHECK(done[i].finish == FinishReason::kLength);
  }
  Harness together(name, 256, 64);
  for (size_t i = 0; i < reqs.size(); ++i) CHECK(together.sched->add(i, reqs[i]).ok());
  std::map<uint64_t, std::vector<int32_t>> batched;
  std::map<uint64_t, RequestEvent> done;
  together.run(&batched, &done);
  for (size_t i = 0; i < reqs.size(); ++i) {
    CHECK_MSG(batched[i] == alone[i], "%s request %zu differs in a batch", name.c_str(), i);
    CHECK(static_cast<int64_t>(batched[i].size()) == reqs[i].max_tokens);
  }
  const SchedulerStats s = together.sched->stats();
  CHECK(s.running == 0 && s.waiting == 0 && s.kv_blocks_used == 0);
  CHECK(s.prefix_cache_hit_tokens >= 32);  // the shared 40-token prefix: two full blocks, reused
}

}  // namespace

TEST_CASE("scheduler: 16 concurrent requests give exactly their tokens alone (qwen2, mixtral)") {
  check_batched_equals_alone("qwen2-f32");
  check_batched_equals_alone("mixtral-bf16");
}

TEST_CASE("scheduler: a repeated prompt is served from the prefix cache with identical output") {
  Harness h("llama-f32", 64, 512);
  if (!h.ok) return;
  RequestParams p;
  for (int i = 0; i < 100; ++i) p.prompt.push_back(1000 + i * 7);
  p.max_tokens = 8;
  p.sampling.temperature = 0;
  std::map<uint64_t, std::vector<int32_t>> tokens;
  std::map<uint64_t, RequestEvent> done;
  CHECK(h.sched->add(1, p).ok());
  h.run(&tokens, &done);
  CHECK(done[1].cached_prompt_tokens == 0);
  const int64_t computed = h.sched->stats().prompt_tokens_computed;
  CHECK(h.sched->add(2, p).ok());
  h.run(&tokens, &done);
  CHECK(done[2].cached_prompt_tokens == 96);  // six full blocks of 16; the last token is recomputed
  CHECK(h.sched->stats().prompt_tokens_computed - computed == 4);
  CHECK(tokens[1] == tokens[2]);
  CHECK(h.sched->stats().kv_blocks_used == 0 && h.sched->stats().kv_blocks_cached > 0);
}

TEST_CASE("scheduler: a KV cache too small for all requests preempts and still gives the same outputs") {
  Harness big("mistral-f32", 256, 128);
  Harness small("mistral-f32", 14, 128);  // 224 tokens for ~16 requests of up to ~150
  if (!big.ok || !small.ok) return;
  const auto reqs = workload(big.model->hparams().n_vocab, 16, 5);
  std::map<uint64_t, std::vector<int32_t>> a, b;
  std::map<uint64_t, RequestEvent> da, db;
  for (size_t i = 0; i < reqs.size(); ++i) {
    CHECK(big.sched->add(i, reqs[i]).ok());
    CHECK(small.sched->add(i, reqs[i]).ok());
  }
  big.run(&a, &da);
  small.run(&b, &db);
  CHECK(small.sched->stats().preemptions > 0);
  for (size_t i = 0; i < reqs.size(); ++i) {
    CHECK_MSG(a[i] == b[i], "request %zu differs under preemption", i);
    CHECK(db[i].finish == FinishReason::kLength);
  }
  CHECK(small.sched->stats().kv_blocks_used == 0);
}

TEST_CASE("scheduler: cancel frees blocks at the next step; bad requests are rejected up front") {
  Harness h("qwen2-f32", 32, 64);
  if (!h.ok) return;
  RequestParams p;
  p.prompt = std::vector<int32_t>(100, 5);
  p.max_tokens = 50;
  CHECK(h.sched->add(1, p).ok());
  std::vector<RequestEvent> events;
  CHECK(h.sched->step(&events).ok());
  CHECK(h.sched->stats().kv_blocks_used > 0);
  h.sched->cancel(1);
  CHECK(h.sched->step(&events).ok());
  CHECK(events.size() == 1 && events[0].finish == FinishReason::kAbort);
  CHECK(h.sched->stats().kv_blocks_used == 0 && !h.sched->has_work());
  RequestParams too_long = p;
  too_long.max_tokens = 10000;
  CHECK(h.sched->add(2, too_long).code == Code::kContextOverflow);  // 32 blocks = 512 tokens
  RequestParams bad_id = p;
  bad_id.prompt = {200000};
  CHECK(h.sched->add(3, bad_id).code == Code::kInvalidArgument);
  RequestParams bad_sampling = p;
  bad_sampling.sampling.top_p = 2;
  CHECK(h.sched->add(4, bad_sampling).code == Code::kInvalidArgument);
  CHECK(h.sched->stats().waiting == 0);
}
