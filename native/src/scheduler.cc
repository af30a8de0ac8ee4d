#include "scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "fault-injection.h"
#include "forward.h"
#include "logprobs.h"

namespace xlam {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kNone: return "";
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kAbort: return "abort";
    case FinishReason::kError: return "error";
  }
  return "";
}

struct Scheduler::Request {
  uint64_t id = 0;
  uint64_t arrival = 0;
  RequestParams params;
  std::vector<int32_t> tokens;  // prompt, then generated tokens
  int64_t n_prompt = 0;
  int64_t n_computed = 0;       // tokens whose KV is in the cache
  int64_t n_cached_prompt = 0;  // prompt tokens served by the prefix cache at first admission
  bool admitted_once = false;
  bool cancelled = false;
  bool paused = false;
  SeqSlots slots;
  std::unique_ptr<SamplerState> sampler;
  std::unique_ptr<GrammarMatcher> matcher;  // constrained requests

  int64_t generated() const { return static_cast<int64_t>(tokens.size()) - n_prompt; }
  int64_t needed() const { return static_cast<int64_t>(tokens.size()) - n_computed; }
};

Scheduler::Scheduler(ModelRunner* runner, KvCache* cache, const SchedulerOptions& options)
    : runner_(runner), cache_(cache), options_(options) {}

Scheduler::~Scheduler() {
  for (auto& [id, r] : requests_) cache_->free_seq(&r->slots);
}

Status Scheduler::validate(const RequestParams& params) const {
  const int64_t n_vocab = runner_->n_vocab();
  const int64_t n_prompt = static_cast<int64_t>(params.prompt.size());
  if (n_prompt == 0) return Status::Error(Code::kInvalidArgument, "the prompt is empty");
  if (params.max_tokens < 1) return Status::Error(Code::kInvalidArgument, "maxTokens must be >= 1");
  if (params.top_logprobs < 0 || params.top_logprobs > 100)
    return Status::Error(Code::kInvalidArgument, "topLogprobs must be in 0..100");
  for (int32_t t : params.prompt)
    if (t < 0 || t >= n_vocab)
      return Status::Error(Code::kInvalidArgument, "prompt token id " + std::to_string(t) + " is outside the vocabulary");
  XLAM_TRY(validate_sampling(params.sampling, n_vocab));
  if (params.grammar) XLAM_TRY(validate_grammar(*params.grammar));
  // The last generated token is never fed back: the sequence holds n_prompt + max_tokens - 1.
  const int64_t need = n_prompt + params.max_tokens - 1;
  const int64_t limit = std::min(options_.max_context, cache_->capacity_tokens());
  if (need > limit)
    return Status::Error(Code::kContextOverflow, "prompt (" + std::to_string(n_prompt) + ") + maxTokens (" +
                                                     std::to_string(params.max_tokens) + ") exceeds the context of " +
                                                     std::to_string(limit) + " tokens");
  return Status::Ok();
}

Status Scheduler::add(uint64_t id, RequestParams params) {
  if (requests_.count(id)) return Status::Error(Code::kInvalidArgument, "duplicate request id");
  XLAM_TRY(validate(params));
  const int64_t n_prompt = static_cast<int64_t>(params.prompt.size());
  auto r = std::make_unique<Request>();
  r->id = id;
  r->arrival = arrivals_++;
  r->tokens = params.prompt;
  r->n_prompt = n_prompt;
  r->sampler = std::make_unique<SamplerState>(params.sampling, params.prompt);
  if (params.grammar) {
    if (!grammar_.has_vocabulary())
      return Status::Error(Code::kInvalidArgument, "a grammar request needs the vocabulary's token bytes first (setTokenBytes)");
    r->matcher = std::make_unique<GrammarMatcher>(&grammar_, grammar_.compile(params.grammar));
  }
  r->params = std::move(params);
  waiting_.push_back(r.get());
  requests_.emplace(id, std::move(r));
  return Status::Ok();
}

void Scheduler::cancel(uint64_t id) {
  auto it = requests_.find(id);
  if (it != requests_.end()) it->second->cancelled = true;
}

void Scheduler::set_paused(uint64_t id, bool paused) {
  auto it = requests_.find(id);
  if (it != requests_.end()) it->second->paused = paused;
}

bool Scheduler::has_work() const {
  for (const auto& [id, r] : requests_)
    if (!r->paused || r->cancelled) return true;
  return false;
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats s = stats_;
  s.running = static_cast<int64_t>(running_.size());
  s.waiting = static_cast<int64_t>(waiting_.size());
  s.kv_blocks_total = cache_->blocks().total();
  s.kv_blocks_used = cache_->blocks().used_count();
  s.kv_blocks_cached = cache_->blocks().cached_count();
  const GrammarStats& g = grammar_.stats();
  s.grammar_masks = g.masks;
  s.grammar_entries_built = g.entries_built;
  s.grammar_entries_shared = g.entries_shared;
  return s;
}

std::string Scheduler::check_invariants() const {
  const BlockManager& bm = cache_->blocks();
  std::string why = bm.check();
  if (!why.empty()) return why;
  std::unordered_map<const Request*, int> queued;
  for (const Request* r : running_) queued[r] += 1;
  for (const Request* r : waiting_) {
    queued[r] += 1;
    if (!r->slots.blocks.empty()) return "request " + std::to_string(r->id) + " is waiting with blocks";
  }
  if (queued.size() != requests_.size()) return std::to_string(queued.size()) + " requests queued of " + std::to_string(requests_.size());
  const int64_t n = bm.total();
  const int64_t bs = bm.block_size();
  std::vector<int32_t> holders(static_cast<size_t>(n), 0);
  std::vector<int64_t> place(static_cast<size_t>(n), -1);
  for (const auto& [id, r] : requests_) {
    const std::string name = "request " + std::to_string(id);
    if (queued.count(r.get()) == 0 || queued.at(r.get()) != 1) return name + " is not queued exactly once";
    const auto& blocks = r->slots.blocks;
    if (r->n_computed > static_cast<int64_t>(blocks.size()) * bs || r->n_computed > static_cast<int64_t>(r->tokens.size()))
      return name + ": " + std::to_string(r->n_computed) + " tokens computed in " + std::to_string(blocks.size()) + " blocks";
    for (size_t i = 0; i < blocks.size(); ++i) {
      const int32_t b = blocks[i];
      if (b < 0 || b >= n) return name + " holds block " + std::to_string(b) + " of " + std::to_string(n);
      if (holders[static_cast<size_t>(b)]++ == 0) {
        place[static_cast<size_t>(b)] = static_cast<int64_t>(i);
      } else if (!bm.is_cached(b) || place[static_cast<size_t>(b)] != static_cast<int64_t>(i)) {
        return "block " + std::to_string(b) + " is in two block tables but not as the same cached prefix block";
      }
    }
  }
  for (int32_t b = 0; b < static_cast<int32_t>(n); ++b)
    if (bm.ref_count(b) != holders[static_cast<size_t>(b)])
      return "block " + std::to_string(b) + ": reference count " + std::to_string(bm.ref_count(b)) + ", held by " +
             std::to_string(holders[static_cast<size_t>(b)]) + " block tables";
  return {};
}

Status Scheduler::set_vocabulary(const uint8_t* data, size_t data_len, const uint32_t* offsets, const uint8_t* allowed,
                                 int64_t n_vocab) {
  if (n_vocab != runner_->n_vocab())
    return Status::Error(Code::kInvalidArgument, "token bytes: " + std::to_string(n_vocab) + " ids for a vocabulary of " +
                                                     std::to_string(runner_->n_vocab()));
  return grammar_.set_vocabulary(data, data_len, offsets, allowed, n_vocab);
}

void Scheduler::finish(Request* r, FinishReason reason, std::vector<RequestEvent>* events, Status error) {
  RequestEvent e;
  e.id = r->id;
  e.finish = reason;
  e.error = std::move(error);
  e.prompt_tokens = r->n_prompt;
  e.cached_prompt_tokens = r->n_cached_prompt;
  e.completion_tokens = r->generated();
  events->push_back(std::move(e));
  cache_->free_seq(&r->slots);
  auto drop = [r](std::deque<Request*>& q) { q.erase(std::remove(q.begin(), q.end(), r), q.end()); };
  drop(running_);
  drop(waiting_);
  requests_.erase(r->id);
}

void Scheduler::fail_all(const Status& error, std::vector<RequestEvent>* events) {
  std::vector<Request*> all;
  for (auto& [id, r] : requests_) all.push_back(r.get());
  std::sort(all.begin(), all.end(), [](Request* a, Request* b) { return a->arrival < b->arrival; });
  for (Request* r : all) finish(r, FinishReason::kError, events, error);
}

void Scheduler::preempt(Request* r) {
  cache_->free_seq(&r->slots);
  r->n_computed = 0;  // recomputed from its tokens (prompt + output so far) when readmitted
  running_.erase(std::remove(running_.begin(), running_.end(), r), running_.end());
  waiting_.push_front(r);
  stats_.preemptions += 1;
}

bool Scheduler::schedule_running(std::vector<Scheduled>* out, int64_t* budget) {
  bool preempted = false;
  std::sort(running_.begin(), running_.end(), [](Request* a, Request* b) { return a->arrival < b->arrival; });
  for (size_t i = 0; i < running_.size() && *budget > 0;) {
    Request* r = running_[i];
    if (r->paused) {
      ++i;
      continue;
    }
    const int64_t n = std::min(r->needed(), *budget);
    bool self_preempted = false;
    while (!cache_->reserve(&r->slots, r->n_computed + n).ok()) {
      Request* victim = running_.back();  // the newest running request
      preempted = true;
      preempt(victim);
      if (victim == r) {
        self_preempted = true;
        break;
      }
    }
    if (self_preempted) break;  // r was the newest: everything older is scheduled
    out->push_back({r, n});
    *budget -= n;
    ++i;
  }
  return preempted;
}

void Scheduler::schedule_waiting(std::vector<Scheduled>* out, int64_t* budget) {
  for (size_t i = 0; i < waiting_.size() && *budget > 0;) {
    if (static_cast<int64_t>(running_.size()) >= options_.max_sequences) return;
    Request* r = waiting_[i];
    if (r->paused) {
      ++i;
      continue;
    }
    // Prefix cache: full blocks of the tokens, leaving at least the last one to compute.
    const int64_t hit = cache_->attach_prefix(&r->slots, r->tokens.data(), static_cast<int64_t>(r->tokens.size()) - 1);
    r->n_computed = hit;
    const int64_t n = std::min(r->needed(), *budget);
    if (!cache_->reserve(&r->slots, r->n_computed + n).ok()) {
      cache_->free_seq(&r->slots);  // wait for blocks; older requests keep priority
      r->n_computed = 0;
      return;
    }
    if (!r->admitted_once) {
      r->admitted_once = true;
      r->n_cached_prompt = std::min(hit, r->n_prompt);
    }
    stats_.prefix_cache_hit_tokens += hit;
    waiting_.erase(waiting_.begin() + static_cast<long>(i));
    running_.push_back(r);
    out->push_back({r, n});
    *budget -= n;
  }
}

void Scheduler::sample_token(Request* r, const float* logits, std::vector<RequestEvent>* events) {
  const int64_t n_vocab = runner_->n_vocab();
  RequestEvent e;
  e.id = r->id;
  e.has_top_logprobs = r->params.top_logprobs > 0;
  if (e.has_top_logprobs) top_logprobs(logits, n_vocab, r->params.top_logprobs, &e.top_logprobs);
  std::vector<float>& row = row_;
  row.assign(logits, logits + n_vocab);
  const auto& stops = r->params.stop_ids;
  if (r->matcher) {
    const auto t0 = std::chrono::steady_clock::now();
    r->matcher->fill_mask(&mask_);
    for (int64_t w = 0; w < static_cast<int64_t>(mask_.size()); ++w) {
      const uint64_t m = mask_[static_cast<size_t>(w)];
      if (m == ~uint64_t{0}) continue;
      const int64_t end = std::min<int64_t>(n_vocab, (w + 1) * 64);
      if (m == 0) {  // most words under a grammar: nothing allowed
        std::fill(row.begin() + w * 64, row.begin() + end, -INFINITY);
        continue;
      }
      for (int64_t i = w * 64; i < end; ++i)
        if (!((m >> (i & 63)) & 1)) row[static_cast<size_t>(i)] = -INFINITY;
    }
    const bool complete = r->matcher->complete();
    for (int32_t s : stops) row[static_cast<size_t>(s)] = complete ? logits[s] : -INFINITY;
    stats_.grammar_mask_ns +=
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  }
  const int32_t token = r->sampler->sample(row.data(), n_vocab);
  if (token < 0) {
    finish(r, FinishReason::kError, events,
           Status::Error(Code::kInternal, r->matcher ? "no token can be sampled: the grammar allows none of the tokens left "
                                                       "after logit bias and penalties, or the logits are NaN"
                                                     : "no token can be sampled: the logits are NaN or every token is banned"));
    return;
  }
  const bool is_stop = std::find(stops.begin(), stops.end(), token) != stops.end();
  bool at_limit = false;
  if (r->matcher && !is_stop && !r->matcher->accept(token, &at_limit)) {
    finish(r, FinishReason::kError, events,
           Status::Error(Code::kInternal, at_limit ? "the grammar is too ambiguous: the sampled token would leave more than " +
                                                         std::to_string(Pda::kMaxTops) + " parse stacks alive at once"
                                                   : std::string("the grammar refused a token its own mask allowed")));
    return;
  }
  if (!append_token(r, token, std::move(e), events) || !r->matcher) return;
  // Bytes the grammar forces come next without sampling: computed in the next pass as a chunk.
  r->matcher->forced_tokens(r->params.max_tokens - r->generated(), &forced_);
  for (int32_t t : forced_) {
    r->matcher->accept(t);
    RequestEvent fe;
    fe.id = r->id;
    fe.has_top_logprobs = r->params.top_logprobs > 0;  // no logits for it: an empty list
    stats_.grammar_forced_tokens += 1;
    if (!append_token(r, t, std::move(fe), events)) return;
  }
}

bool Scheduler::append_token(Request* r, int32_t token, RequestEvent e, std::vector<RequestEvent>* events) {
  r->sampler->accept(token);
  r->tokens.push_back(token);
  stats_.generated_tokens += 1;
  e.token = token;
  events->push_back(std::move(e));
  const auto& stops = r->params.stop_ids;
  if (std::find(stops.begin(), stops.end(), token) != stops.end()) {
    finish(r, FinishReason::kStop, events);
    return false;
  }
  if (r->generated() >= r->params.max_tokens || static_cast<int64_t>(r->tokens.size()) >= options_.max_context) {
    finish(r, FinishReason::kLength, events);
    return false;
  }
  if (r->matcher && r->matcher->complete() && !r->matcher->can_continue()) {
    finish(r, FinishReason::kStop, events);  // the grammar is complete and nothing may follow
    return false;
  }
  return true;
}

void Scheduler::finish_cancelled(std::vector<RequestEvent>* events) {
  std::vector<Request*> cancelled;
  for (auto& [id, r] : requests_)
    if (r->cancelled) cancelled.push_back(r.get());
  std::sort(cancelled.begin(), cancelled.end(), [](Request* a, Request* b) { return a->arrival < b->arrival; });
  for (Request* r : cancelled) finish(r, FinishReason::kAbort, events);
}

Status Scheduler::step(std::vector<RequestEvent>* events) {
  events->clear();
  finish_cancelled(events);

  std::vector<Scheduled> batch;
  int64_t budget = options_.max_batch_tokens;
  const bool preempted = schedule_running(&batch, &budget);
  if (!preempted) schedule_waiting(&batch, &budget);
  if (batch.empty()) return Status::Ok();

  ForwardBatch fb;
  fb.n_seqs = static_cast<int64_t>(batch.size());
  for (const Scheduled& s : batch) fb.max_blocks = std::max(fb.max_blocks, static_cast<int64_t>(s.r->slots.blocks.size()));
  fb.block_tables.assign(static_cast<size_t>(fb.n_seqs * fb.max_blocks), -1);
  for (size_t si = 0; si < batch.size(); ++si) {
    Request* r = batch[si].r;
    std::copy(r->slots.blocks.begin(), r->slots.blocks.end(), fb.block_tables.begin() + static_cast<long>(si * fb.max_blocks));
    for (int64_t p = r->n_computed; p < r->n_computed + batch[si].n; ++p) {
      fb.tokens.push_back(r->tokens[p]);
      fb.positions.push_back(static_cast<int32_t>(p));
      fb.token_seq.push_back(static_cast<int32_t>(si));
      fb.slots.push_back(cache_->slot(r->slots, p));
    }
    if (r->n_computed + batch[si].n == static_cast<int64_t>(r->tokens.size()))
      fb.logit_rows.push_back(static_cast<int32_t>(fb.tokens.size() - 1));
  }
  fault::point("forward");  // test-only: a step that throws with its blocks taken
  stats_.steps += 1;
  const auto t0 = std::chrono::steady_clock::now();
  const Status st = runner_->run(fb, &logits_);  // no logit rows: prefill chunks only
  const auto t1 = std::chrono::steady_clock::now();
  stats_.forward_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  if (!st.ok()) {
    for (const Scheduled& s : batch) finish(s.r, FinishReason::kError, events, st);
    return st;
  }
  const int64_t n_vocab = runner_->n_vocab();
  size_t row = 0;
  for (const Scheduled& s : batch) {
    Request* r = s.r;
    const int64_t before = r->n_computed;
    r->n_computed += s.n;
    r->slots.n_tokens = r->n_computed;
    stats_.prompt_tokens_computed += std::max<int64_t>(0, std::min(r->n_computed, r->n_prompt) - before);
    cache_->commit_full_blocks(&r->slots, r->tokens.data(), r->n_computed);
    if (r->n_computed == static_cast<int64_t>(r->tokens.size())) {
      sample_token(r, logits_.data() + row * n_vocab, events);
      ++row;
    }
  }
  stats_.sample_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t1).count();
  return Status::Ok();
}

}  // namespace xlam
