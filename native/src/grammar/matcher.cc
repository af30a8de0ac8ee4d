#include "matcher.h"

#include <algorithm>

namespace xlam {

size_t CompiledGrammar::FramesHash::operator()(const std::vector<int32_t>& v) const {
  uint64_t h = 1469598103934665603ull;
  for (int32_t x : v) h = (h ^ static_cast<uint32_t>(x)) * 1099511628211ull;
  return static_cast<size_t>(h ^ (h >> 31));
}

Status GrammarContext::set_vocabulary(const uint8_t* data, size_t data_len, const uint32_t* offsets, const uint8_t* allowed,
                                      int64_t n_vocab) {
  if (trie_) return Status::Ok();
  auto t = std::make_unique<VocabTrie>();
  XLAM_TRY(VocabTrie::build(data, data_len, offsets, allowed, n_vocab, t.get()));
  trie_ = std::move(t);
  return Status::Ok();
}

std::shared_ptr<CompiledGrammar> GrammarContext::compile(std::shared_ptr<const ByteGrammar> g) {
  const uint64_t h = grammar_hash(*g);
  for (size_t i = grammars_.size(); i-- > 0;) {
    auto& cg = grammars_[i];
    if (cg->hash == h && grammar_equal(*cg->g, *g)) {
      auto found = cg;
      grammars_.erase(grammars_.begin() + static_cast<long>(i));
      grammars_.push_back(found);
      return found;
    }
  }
  auto cg = std::make_shared<CompiledGrammar>(std::move(g));
  cg->hash = h;
  grammars_.push_back(cg);
  if (grammars_.size() > kMaxGrammars) grammars_.erase(grammars_.begin());
  return cg;
}

const MaskEntry& GrammarContext::entry(CompiledGrammar* cg, int32_t node) {
  top_frames(cg->pda, node, &frames_);
  auto it = cg->entries.find(frames_);
  if (it != cg->entries.end()) return *it->second;
  const std::string key = canonical_key(*cg->g, frames_);
  std::shared_ptr<const MaskEntry> e = key.empty() ? nullptr : cache_.find(key);
  if (e) {
    stats_.entries_shared += 1;
  } else {
    e = build_mask_entry(&cg->pda, *trie_, frames_);
    stats_.entries_built += 1;
    if (!key.empty()) cache_.put(key, e);
  }
  return *cg->entries.emplace(frames_, std::move(e)).first->second;
}

GrammarMatcher::GrammarMatcher(GrammarContext* ctx, std::shared_ptr<CompiledGrammar> cg)
    : ctx_(ctx), cg_(std::move(cg)), state_(cg_->pda.initial()) {}

void GrammarMatcher::fill_mask(std::vector<uint64_t>* bits) {
  const VocabTrie& trie = ctx_->trie();
  ctx_->stats().masks += 1;
  auto hit = cg_->state_masks.find(state_);
  if (hit != cg_->state_masks.end()) {
    ctx_->stats().state_mask_hits += 1;
    *bits = hit->second;
    return;
  }
  bits->assign(static_cast<size_t>((trie.n_vocab() + 63) / 64), 0);
  compute_mask(bits->data());
  if (cg_->state_mask_order.size() >= CompiledGrammar::kStateMasks) {
    cg_->state_masks.erase(cg_->state_mask_order.front());
    cg_->state_mask_order.erase(cg_->state_mask_order.begin());
  }
  cg_->state_masks.emplace(state_, *bits);
  cg_->state_mask_order.push_back(state_);
}

void GrammarMatcher::compute_mask(uint64_t* out) {
  const VocabTrie& trie = ctx_->trie();
  Pda& pda = cg_->pda;
  const std::vector<int32_t> tops = pda.state(state_).tops;  // copy: walks intern new states
  for (int32_t top : tops) {
    const MaskEntry& e = ctx_->entry(cg_.get(), top);
    if (!e.accepted_bits.empty()) {
      for (size_t w = 0; w < e.accepted_bits.size(); ++w) out[w] |= e.accepted_bits[w];
    } else {
      for (int32_t t : e.accepted_ids) out[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
    }
    if (e.uncertain.empty()) continue;
    // Walk the uncertain tokens with the whole stack, reusing the states of shared prefixes.
    const int32_t start = pda.from_node(top);
    path_.assign(static_cast<size_t>(trie.max_depth()) + 1, Pda::kDead);
    path_[0] = start;
    std::string_view prev;
    for (int32_t t : e.uncertain) {
      if ((out[static_cast<size_t>(t) >> 6] >> (t & 63)) & 1) {
        continue;  // already allowed by another stack
      }
      const std::string_view b = trie.bytes(t);
      size_t lcp = 0;
      while (lcp < b.size() && lcp < prev.size() && b[lcp] == prev[lcp]) ++lcp;
      int32_t s = path_[lcp];
      for (size_t i = lcp; i < b.size(); ++i) {
        s = pda.step(s, static_cast<uint8_t>(b[i]));
        path_[i + 1] = s;
      }
      prev = b;
      ctx_->stats().uncertain_checked += 1;
      if (s != Pda::kDead) out[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
    }
  }
}

bool GrammarMatcher::accept(int32_t token, bool* at_limit) {
  if (at_limit) *at_limit = false;
  const std::string_view b = ctx_->trie().bytes(token);
  if (b.empty()) return false;
  int32_t s = state_;
  for (char c : b) {
    const int32_t prev = s;
    s = cg_->pda.step(s, static_cast<uint8_t>(c));
    if (s == Pda::kDead) {
      if (at_limit) *at_limit = cg_->pda.overflowed(prev, static_cast<uint8_t>(c));
      return false;
    }
  }
  state_ = s;
  return true;
}

bool GrammarMatcher::accept_byte(uint8_t b) {
  const int32_t s = cg_->pda.step(state_, b);
  if (s == Pda::kDead) return false;
  state_ = s;
  return true;
}

void GrammarMatcher::forced_tokens(int64_t max, std::vector<int32_t>* out) {
  out->clear();
  if (max <= 0) return;
  Pda& pda = cg_->pda;
  std::vector<uint8_t> forced;
  int32_t s = state_;
  uint32_t next[8];
  while (forced.size() < 512) {
    if (pda.state(s).complete || pda.state(s).tops.empty()) break;
    pda.next_bytes(s, next);
    int count = 0, byte = -1;
    for (int w = 0; w < 8 && count < 2; ++w)
      for (uint32_t m = next[w]; m != 0 && count < 2; m &= m - 1) {
        ++count;
        byte = w * 32 + __builtin_ctz(m);
      }
    if (count != 1) break;
    forced.push_back(static_cast<uint8_t>(byte));
    s = pda.step(s, static_cast<uint8_t>(byte));
  }
  // Longest tokens over the forced bytes; the last one is left to the model.
  std::vector<int32_t> toks;
  size_t at = 0;
  while (at < forced.size()) {
    size_t len = 0;
    const int32_t t = ctx_->trie().longest_prefix(forced.data() + at, forced.size() - at, &len);
    if (t < 0) break;
    toks.push_back(t);
    at += len;
  }
  if (!toks.empty()) toks.pop_back();
  if (static_cast<int64_t>(toks.size()) > max) toks.resize(static_cast<size_t>(max));
  *out = std::move(toks);
}

}  // namespace xlam
