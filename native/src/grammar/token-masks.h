// Which tokens a grammar stack allows, computed ahead from the stack's top frames only (the
// XGrammar idea). For the few top frames of a stack (up to the first frame that waits for a
// byte of its own, e.g. the closing quote of a string), one walk of the vocabulary trie sorts
// every token into
//   accepted:  the token's bytes are taken without leaving those frames (or it ends exactly as
//              it leaves them) — allowed whatever lies below;
//   rejected:  it fails inside those frames — never allowed;
//   uncertain: it leaves the frames with bytes to spare — decided at run time with the whole
//              stack (a few thousand tokens at most, e.g. `",` inside a string).
// Entries are shared between grammars through a canonical key (the frames' rest and every rule
// they reach, renumbered), so the costly walks (string contents: nearly the whole trie) are done
// once per engine, not once per tool set.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "pda.h"
#include "vocab-trie.h"

namespace xlam {

struct MaskEntry {
  std::vector<uint64_t> accepted_bits;  // bitset over the vocabulary, or empty when sparse
  std::vector<int32_t> accepted_ids;    // the accepted tokens when few
  std::vector<int32_t> uncertain;       // sorted by bytes (trie rank)
  int64_t walked_nodes = 0;             // trie nodes visited to build it
  size_t memory_bytes() const { return accepted_bits.size() * 8 + (accepted_ids.size() + uncertain.size()) * 4 + 64; }
};

// The engine's cache of entries by canonical key, bounded by memory (least recently used out).
class MaskCache {
 public:
  explicit MaskCache(size_t max_bytes = size_t{96} << 20) : max_bytes_(max_bytes) {}
  std::shared_ptr<const MaskEntry> find(const std::string& key);
  void put(const std::string& key, std::shared_ptr<const MaskEntry> e);
  size_t memory_bytes() const { return bytes_; }
  size_t size() const { return index_.size(); }

 private:
  using Item = std::pair<std::string, std::shared_ptr<const MaskEntry>>;
  size_t max_bytes_;
  size_t bytes_ = 0;
  std::list<Item> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Item>::iterator> index_;
};

// The top frames of the stack whose top is `node`: the top, then frames below until one waits
// for a byte (its position is a byte set), at most kMaxFrames.
constexpr int kMaxFrames = 8;
void top_frames(const Pda& pda, int32_t node, std::vector<int32_t>* positions);

// The canonical key of those frames (empty when their closure is too large to be worth sharing).
std::string canonical_key(const ByteGrammar& g, const std::vector<int32_t>& positions);

// Builds the entry for the frames (positions top first) by walking the trie.
std::shared_ptr<MaskEntry> build_mask_entry(Pda* pda, const VocabTrie& trie, const std::vector<int32_t>& positions);

}  // namespace xlam
