#include "token-masks.h"

#include <algorithm>
#include <cstring>

namespace xlam {

std::shared_ptr<const MaskEntry> MaskCache::find(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void MaskCache::put(const std::string& key, std::shared_ptr<const MaskEntry> e) {
  if (index_.count(key)) return;
  const size_t sz = e->memory_bytes() + key.size();
  lru_.emplace_front(key, std::move(e));
  index_.emplace(key, lru_.begin());
  bytes_ += sz;
  while (bytes_ > max_bytes_ && lru_.size() > 1) {
    const Item& last = lru_.back();
    bytes_ -= last.second->memory_bytes() + last.first.size();
    index_.erase(last.first);
    lru_.pop_back();
  }
}

void top_frames(const Pda& pda, int32_t node, std::vector<int32_t>* positions) {
  positions->clear();
  const ByteGrammar& g = pda.grammar();
  for (int32_t n = node; n >= 0 && static_cast<int>(positions->size()) < kMaxFrames;) {
    const StackNode& s = pda.node_at(n);
    positions->push_back(s.pos);
    if (positions->size() > 1 && g.kind_at(s.pos) == ElemKind::kBytes) break;
    n = s.parent;
  }
}

std::string canonical_key(const ByteGrammar& g, const std::vector<int32_t>& positions) {
  constexpr size_t kMaxKey = 4096;  // larger closures hold a tool's own schema: not worth sharing
  std::string key;
  std::unordered_map<int32_t, int32_t> renumber;
  std::vector<int32_t> queue;
  auto put32 = [&](int32_t v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); };
  auto elems = [&](int32_t p) {
    for (;; ++p) {
      const ElemKind k = g.kind_at(p);
      key.push_back(static_cast<char>(k));
      if (k == ElemKind::kEnd) return;
      const int32_t a = g.arg[static_cast<size_t>(p)];
      if (k == ElemKind::kBytes) {
        key.append(reinterpret_cast<const char*>(g.sets[static_cast<size_t>(a)].data()), 32);
      } else {
        auto [it, fresh] = renumber.emplace(a, static_cast<int32_t>(renumber.size()));
        if (fresh) queue.push_back(a);
        put32(it->second);
      }
    }
  };
  for (int32_t p : positions) {
    key.push_back('F');
    elems(p);
  }
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    if (key.size() > kMaxKey) return {};
    const int32_t r = queue[qi];
    key.push_back('R');
    put32(g.rule_alts[static_cast<size_t>(r) + 1] - g.rule_alts[static_cast<size_t>(r)]);
    for (int32_t a = g.rule_alts[static_cast<size_t>(r)]; a < g.rule_alts[static_cast<size_t>(r) + 1]; ++a)
      elems(g.alt_start[static_cast<size_t>(a)]);
  }
  return key.size() > kMaxKey ? std::string{} : key;
}

std::shared_ptr<MaskEntry> build_mask_entry(Pda* pda, const VocabTrie& trie, const std::vector<int32_t>& positions) {
  // The frames as a stack of their own, bottom first.
  int32_t node = -1;
  for (size_t i = positions.size(); i-- > 0;) node = pda->node(positions[i], node);
  const int32_t start = pda->from_node(node);

  auto e = std::make_shared<MaskEntry>();
  std::vector<int32_t> accepted;
  const int32_t max_d = trie.max_depth();
  std::vector<int32_t> state_at(static_cast<size_t>(max_d) + 1);
  std::vector<uint8_t> left_at(static_cast<size_t>(max_d) + 1);  // a state on the path had left the frames
  state_at[0] = start;
  left_at[0] = 0;  // the start never counts: no byte taken yet
  const int32_t n = trie.n_nodes();
  int64_t walked = 0;
  for (int32_t i = 0; i < n;) {
    ++walked;
    const int32_t d = trie.depth(i);
    const int32_t s = pda->step(state_at[static_cast<size_t>(d) - 1], trie.byte(i));
    if (s == Pda::kDead) {
      if (left_at[static_cast<size_t>(d) - 1])
        e->uncertain.insert(e->uncertain.end(), trie.subtree_tokens_begin(i), trie.subtree_tokens_end(i));
      i = trie.end(i);
      continue;
    }
    accepted.insert(accepted.end(), trie.tokens_begin(i), trie.tokens_end(i));
    state_at[static_cast<size_t>(d)] = s;
    left_at[static_cast<size_t>(d)] = left_at[static_cast<size_t>(d) - 1] | static_cast<uint8_t>(pda->state(s).complete);
    ++i;
  }
  e->walked_nodes = walked;
  // Tokens with equal bytes sit at one node, so uncertain is in byte order already.
  if (static_cast<int64_t>(accepted.size()) * 32 > trie.n_vocab()) {
    e->accepted_bits.assign(static_cast<size_t>((trie.n_vocab() + 63) / 64), 0);
    for (int32_t t : accepted) e->accepted_bits[static_cast<size_t>(t) >> 6] |= uint64_t{1} << (t & 63);
  } else {
    std::sort(accepted.begin(), accepted.end());
    e->accepted_ids = std::move(accepted);
  }
  return e;
}

}  // namespace xlam
