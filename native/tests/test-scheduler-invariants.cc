// Scheduler and KV-cache invariants under random operations (shared/RELIABILITY.md §7.1 K): 10,000
// random sequences of add / step / cancel / pause / resume on a small KV pool (so requests are
// preempted) with prompts drawn from a few shared stems (so the prefix cache hits). After every
// operation Scheduler::check_invariants holds (reference counts equal block-table holders, a block
// in two tables only as the same cached prefix block, the free list exact); every request ends
// exactly once, with no event after its end and no more tokens than it asked for; at quiescence
// every block is free. A fake model runner stands in for the forward pass.
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../cpu/cpu-backend.h"
#include "../src/forward.h"
#include "../src/kv-cache.h"
#include "../src/scheduler.h"
#include "check.h"

using namespace xlam;

namespace {

constexpr int64_t kVocab = 8;

// Logits that depend on the batch's last token of each row (deterministic, cheap).
class FakeRunner : public ModelRunner {
 public:
  int64_t n_vocab() const override { return kVocab; }
  Status run(const ForwardBatch& batch, std::vector<float>* logits) override {
    logits->assign(batch.logit_rows.size() * kVocab, 0.0f);
    for (size_t r = 0; r < batch.logit_rows.size(); ++r) {
      const int32_t row = batch.logit_rows[r];
      const uint32_t seed = static_cast<uint32_t>(batch.tokens[static_cast<size_t>(row)]) * 2654435761u +
                            static_cast<uint32_t>(batch.positions[static_cast<size_t>(row)]) * 40503u;
      for (int64_t j = 0; j < kVocab; ++j)
        (*logits)[r * kVocab + static_cast<size_t>(j)] = static_cast<float>((seed >> (j * 3)) & 7) - 3.5f;
    }
    return Status::Ok();
  }
};

struct Tally {
  int64_t sequences = 0, ops = 0, requests = 0, rejected = 0, preemptions = 0, prefix_hits = 0, cancels = 0, pauses = 0;
  std::map<std::string, int64_t> finishes;
};

// One random sequence of operations on a fresh scheduler. False (after reporting) on a violation.
bool run_sequence(uint64_t seed, Backend* backend, Tally* tally) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  KvCache cache;
  const int64_t block_size = pick(0, 1) ? 4 : 2;
  if (!cache.init(backend, KvCacheShape{1, 1, 2, block_size, pick(3, 24)}).ok()) return false;
  FakeRunner runner;
  SchedulerOptions so;
  so.max_batch_tokens = pick(1, 3) == 1 ? pick(1, 4) : pick(8, 64);
  so.max_sequences = pick(1, 8);
  so.max_context = 64;
  Scheduler sched(&runner, &cache, so);

  // A few shared prompt stems, so prefixes repeat.
  std::vector<std::vector<int32_t>> stems(3);
  for (auto& s : stems)
    for (int64_t i = 0, n = pick(0, 12); i < n; ++i) s.push_back(static_cast<int32_t>(pick(0, kVocab - 1)));

  struct Seen {
    int64_t max_tokens = 0, tokens = 0;
    bool done = false;
    bool paused = false;
  };
  std::map<uint64_t, Seen> seen;
  uint64_t next_id = 1;
  std::vector<RequestEvent> events;
  auto fail = [&](const std::string& what) {
    CHECK_MSG(false, "sequence %llu, operation %lld: %s", static_cast<unsigned long long>(seed),
              static_cast<long long>(tally->ops), what.c_str());
    return false;
  };
  const bool trace = std::getenv("XLAM_TRACE_SEED") && std::strtoull(std::getenv("XLAM_TRACE_SEED"), nullptr, 10) == seed;
  auto take_events = [&]() -> bool {
    for (const RequestEvent& e : events) {
      if (trace) std::fprintf(stderr, "    event id %llu token %d finish %s\n", (unsigned long long)e.id, e.token, finish_reason_name(e.finish));
      auto it = seen.find(e.id);
      if (it == seen.end()) return fail("an event for unknown request " + std::to_string(e.id));
      Seen& s = it->second;
      if (s.done) return fail("an event after request " + std::to_string(e.id) + " ended");
      if (e.token >= 0 && ++s.tokens > s.max_tokens)
        return fail("request " + std::to_string(e.id) + ": token " + std::to_string(s.tokens) + " of maxTokens " + std::to_string(s.max_tokens));
      if (e.finish != FinishReason::kNone) {
        s.done = true;
        tally->finishes[finish_reason_name(e.finish)] += 1;
      }
    }
    return true;
  };
  auto checked = [&]() -> bool {
    tally->ops += 1;
    const std::string why = sched.check_invariants();
    return why.empty() ? true : fail(why);
  };

  for (int64_t op = 0, n_ops = pick(5, 60); op < n_ops; ++op) {
    const int64_t kind = pick(0, 99);
    if (kind < 30) {  // add
      RequestParams p;
      p.prompt = stems[static_cast<size_t>(pick(0, 2))];
      for (int64_t i = 0, n = pick(p.prompt.empty() ? 1 : 0, 6); i < n; ++i) p.prompt.push_back(static_cast<int32_t>(pick(0, kVocab - 1)));
      p.max_tokens = pick(1, 12);
      p.sampling.temperature = pick(0, 1) ? 1.0f : 0.0f;
      p.sampling.seed = rng();
      if (pick(0, 2) == 0) p.stop_ids = {static_cast<int32_t>(pick(0, kVocab - 1))};
      const uint64_t id = next_id++;
      const int64_t max_tokens = p.max_tokens;
      const Status st = sched.add(id, std::move(p));
      if (trace) std::fprintf(stderr, "  add %llu max_tokens %lld: %s\n", (unsigned long long)id, (long long)max_tokens, st.ok() ? "ok" : st.message.c_str());
      if (st.ok()) {
        seen[id] = Seen{max_tokens, 0, false, false};
        tally->requests += 1;
      } else if (st.code == Code::kContextOverflow) {
        tally->rejected += 1;  // larger than the whole pool: refused up front
      } else {
        return fail("add: " + st.message);
      }
    } else if (kind < 80) {  // step
      if (trace) std::fprintf(stderr, "  step (stats running %lld waiting %lld)\n", (long long)sched.stats().running, (long long)sched.stats().waiting);
      events.clear();
      if (sched.has_work() && !sched.step(&events).ok()) return fail("a step failed");
      if (!take_events()) return false;
    } else if (kind < 88) {  // cancel a random request (known or not, ended or not)
      sched.cancel(static_cast<uint64_t>(pick(1, static_cast<int64_t>(next_id))));
      tally->cancels += 1;
    } else {  // pause or resume
      if (seen.empty()) continue;
      auto it = seen.begin();
      std::advance(it, pick(0, static_cast<int64_t>(seen.size()) - 1));
      it->second.paused = !it->second.paused;
      sched.set_paused(it->first, it->second.paused);
      if (trace) std::fprintf(stderr, "  %s %llu\n", it->second.paused ? "pause" : "resume", (unsigned long long)it->first);
      tally->pauses += 1;
    }
    if (!checked()) return false;
  }
  // Quiescence: resume everything and run to the end.
  for (auto& [id, s] : seen) sched.set_paused(id, false);
  for (int guard = 0; sched.has_work(); ++guard) {
    if (guard > 10000) return fail("no quiescence after 10,000 steps");
    if (!sched.step(&events).ok()) return fail("a step failed");
    if (!take_events() || !checked()) return false;
  }
  for (const auto& [id, s] : seen)
    if (!s.done) return fail("request " + std::to_string(id) + " never ended");
  const SchedulerStats st = sched.stats();
  tally->preemptions += st.preemptions;
  tally->prefix_hits += st.prefix_cache_hit_tokens > 0 ? 1 : 0;
  const BlockManager& bm = cache.blocks();
  if (bm.free_count() != bm.total()) return fail(std::to_string(bm.used_count()) + " blocks still used at quiescence");
  for (int32_t b = 0; b < static_cast<int32_t>(bm.total()); ++b)
    if (bm.ref_count(b) != 0) return fail("block " + std::to_string(b) + " referenced at quiescence");
  tally->sequences += 1;
  return true;
}

}  // namespace

TEST_CASE("scheduler invariants: 10,000 random operation sequences") {
  cpu::CpuBackend backend{cpu::CpuOptions{1, false}};
  Tally tally;
  for (uint64_t seed = 1; seed <= 10000; ++seed)
    if (!run_sequence(seed, &backend, &tally)) break;
  CHECK(tally.sequences == 10000);
  // The random operations reached what they are meant to exercise.
  CHECK_MSG(tally.preemptions > 100, "%lld preemptions", static_cast<long long>(tally.preemptions));
  CHECK_MSG(tally.prefix_hits > 100, "%lld sequences with prefix-cache hits", static_cast<long long>(tally.prefix_hits));
  CHECK_MSG(tally.rejected > 0, "%lld requests refused as larger than the pool", static_cast<long long>(tally.rejected));
  for (const char* f : {"stop", "length", "abort"})
    CHECK_MSG(tally.finishes[f] > 100, "%lld '%s' finishes", static_cast<long long>(tally.finishes[f]), f);
  std::fprintf(stderr, "  %lld sequences, %lld operations, %lld requests (%lld refused), %lld preemptions, %lld cancels, %lld pauses\n",
               static_cast<long long>(tally.sequences), static_cast<long long>(tally.ops), static_cast<long long>(tally.requests),
               static_cast<long long>(tally.rejected), static_cast<long long>(tally.preemptions),
               static_cast<long long>(tally.cancels), static_cast<long long>(tally.pauses));
}
