#include "pda.h"

#include <algorithm>

namespace xlam {

size_t Pda::VecHash::operator()(const std::vector<int32_t>& v) const {
  uint64_t h = 1469598103934665603ull;
  for (int32_t x : v) h = (h ^ static_cast<uint32_t>(x)) * 1099511628211ull;
  return static_cast<size_t>(h ^ (h >> 29));
}

Pda::Pda(const ByteGrammar* g) : g_(g) {
  states_.push_back(PdaState{});  // kDead
  state_index_.emplace(std::vector<int32_t>{}, kDead);
}

int32_t Pda::node(int32_t pos, int32_t parent) {
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(parent)) << 32) | static_cast<uint32_t>(pos);
  auto it = node_index_.find(key);
  if (it != node_index_.end()) return it->second;
  const int32_t depth = parent < 0 ? 1 : nodes_[static_cast<size_t>(parent)].depth + 1;
  const int32_t id = static_cast<int32_t>(nodes_.size());
  nodes_.push_back({pos, parent, depth});
  node_index_.emplace(key, id);
  return id;
}

void Pda::expand(int32_t pos0, int32_t parent0) {
  work_.clear();
  work_.push_back({pos0, parent0});
  while (!work_.empty()) {
    auto [pos, parent] = work_.back();
    work_.pop_back();
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(parent)) << 32) | static_cast<uint32_t>(pos);
    if (!seen_.insert(key).second) continue;
    switch (g_->kind_at(pos)) {
      case ElemKind::kEnd:
        if (parent < 0) acc_complete_ = true;
        else work_.push_back({nodes_[static_cast<size_t>(parent)].pos, nodes_[static_cast<size_t>(parent)].parent});
        break;
      case ElemKind::kBytes:
        if (parent >= 0 && nodes_[static_cast<size_t>(parent)].depth >= kMaxDepth) break;  // too deep: dropped
        if (acc_tops_.size() >= static_cast<size_t>(kMaxTops)) {
          acc_overflow_ = true;
          break;
        }
        acc_tops_.push_back(node(pos, parent));
        break;
      case ElemKind::kRef: {
        const int32_t rule = g_->arg[static_cast<size_t>(pos)];
        int32_t ret = parent;
        if (g_->kind_at(pos + 1) != ElemKind::kEnd) {
          if (parent >= 0 && nodes_[static_cast<size_t>(parent)].depth >= kMaxDepth) break;
          ret = node(pos + 1, parent);
        }
        for (int32_t a = g_->rule_alts[static_cast<size_t>(rule)]; a < g_->rule_alts[static_cast<size_t>(rule) + 1]; ++a)
          work_.push_back({g_->alt_start[static_cast<size_t>(a)], ret});
        break;
      }
    }
  }
}

int32_t Pda::intern_state() {
  if (acc_overflow_) return kDead;
  std::sort(acc_tops_.begin(), acc_tops_.end());
  acc_tops_.erase(std::unique(acc_tops_.begin(), acc_tops_.end()), acc_tops_.end());
  if (acc_tops_.empty() && !acc_complete_) return kDead;
  key_.assign(acc_tops_.begin(), acc_tops_.end());
  if (acc_complete_) key_.push_back(-1);
  auto it = state_index_.find(key_);
  if (it != state_index_.end()) return it->second;
  const int32_t id = static_cast<int32_t>(states_.size());
  states_.push_back(PdaState{acc_tops_, acc_complete_});
  state_index_.emplace(key_, id);
  return id;
}

int32_t Pda::initial() {
  if (initial_ >= 0) return initial_;
  acc_tops_.clear();
  acc_complete_ = acc_overflow_ = false;
  seen_.clear();
  const int32_t r = g_->root;
  for (int32_t a = g_->rule_alts[static_cast<size_t>(r)]; a < g_->rule_alts[static_cast<size_t>(r) + 1]; ++a)
    expand(g_->alt_start[static_cast<size_t>(a)], -1);
  initial_ = intern_state();
  return initial_;
}

int32_t Pda::from_node(int32_t n) {
  acc_tops_.clear();
  acc_complete_ = acc_overflow_ = false;
  seen_.clear();
  expand(nodes_[static_cast<size_t>(n)].pos, nodes_[static_cast<size_t>(n)].parent);
  return intern_state();
}

int32_t Pda::step(int32_t state, uint8_t byte) {
  if (state == kDead) return kDead;
  const uint64_t key = (static_cast<uint64_t>(state) << 8) | byte;
  auto it = step_memo_.find(key);
  if (it != step_memo_.end()) return it->second;
  acc_tops_.clear();
  acc_complete_ = acc_overflow_ = false;
  seen_.clear();
  // Copy: expand() may grow states_ only in intern_state, but nodes_ grows; tops are ids.
  const std::vector<int32_t> tops = states_[static_cast<size_t>(state)].tops;
  for (int32_t t : tops) {
    const StackNode n = nodes_[static_cast<size_t>(t)];
    if (g_->set_has(g_->arg[static_cast<size_t>(n.pos)], byte)) expand(n.pos + 1, n.parent);
  }
  const bool overflow = acc_overflow_;
  const int32_t next = intern_state();
  step_memo_.emplace(key, next);
  if (overflow) overflow_steps_.insert(key);
  return next;
}

void Pda::next_bytes(int32_t state, uint32_t out[8]) const {
  for (int i = 0; i < 8; ++i) out[i] = 0;
  for (int32_t t : states_[static_cast<size_t>(state)].tops) {
    const auto& s = g_->sets[static_cast<size_t>(g_->arg[static_cast<size_t>(nodes_[static_cast<size_t>(t)].pos)])];
    for (int i = 0; i < 8; ++i) out[i] |= s[static_cast<size_t>(i)];
  }
}

size_t Pda::memory_bytes() const {
  size_t n = nodes_.size() * sizeof(StackNode) + node_index_.size() * 32 + step_memo_.size() * 32;
  for (const auto& s : states_) n += s.tops.size() * 8 + sizeof(PdaState) + 48;
  return n;
}

}  // namespace xlam
