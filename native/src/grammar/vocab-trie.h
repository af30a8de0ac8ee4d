// The vocabulary's token bytes as a trie in preorder arrays, for walking every token under a
// grammar state at once: a node's subtree is [node, end[node]), so a dead prefix skips its
// whole subtree. Only tokens a grammar may emit are in it (not special tokens, not empty ones).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../status.h"

namespace xlam {

class VocabTrie {
 public:
  // data/offsets: token i's bytes are data[offsets[i] .. offsets[i+1]); allowed[i] != 0 when a
  // grammar may emit token i. INVALID_ARGUMENT for offsets that are not ascending or run past data.
  static Status build(const uint8_t* data, size_t data_len, const uint32_t* offsets, const uint8_t* allowed, int64_t n_vocab,
                      VocabTrie* out);

  int64_t n_vocab() const { return n_vocab_; }
  int32_t n_nodes() const { return static_cast<int32_t>(byte_.size()); }
  // Node i (preorder): its byte, depth (1 for the root's children), subtree end, tokens ending here.
  uint8_t byte(int32_t i) const { return byte_[static_cast<size_t>(i)]; }
  int32_t depth(int32_t i) const { return depth_[static_cast<size_t>(i)]; }
  int32_t end(int32_t i) const { return end_[static_cast<size_t>(i)]; }
  const int32_t* tokens_begin(int32_t i) const { return tokens_.data() + tok_begin_[static_cast<size_t>(i)]; }
  const int32_t* tokens_end(int32_t i) const { return tokens_.data() + tok_begin_[static_cast<size_t>(i) + 1]; }
  // Every token of the subtree of node i (its tokens, in preorder).
  const int32_t* subtree_tokens_begin(int32_t i) const { return tokens_begin(i); }
  const int32_t* subtree_tokens_end(int32_t i) const {
    return tokens_.data() + tok_begin_[static_cast<size_t>(end_[static_cast<size_t>(i)])];
  }
  int32_t max_depth() const { return max_depth_; }

  bool in_trie(int32_t token) const { return rank_[static_cast<size_t>(token)] >= 0; }
  // A token's bytes (empty for a token outside the trie).
  std::string_view bytes(int32_t token) const;
  // The token's rank in byte order (-1 outside the trie): sorting by rank sorts by bytes.
  int32_t rank(int32_t token) const { return rank_[static_cast<size_t>(token)]; }
  // The longest token whose bytes are a prefix of s[0..n); -1 if none. *len its length.
  int32_t longest_prefix(const uint8_t* s, size_t n, size_t* len) const;
  size_t memory_bytes() const;

 private:
  std::string_view bytes_unchecked(int32_t token) const;

  int64_t n_vocab_ = 0;
  std::vector<uint8_t> byte_;
  std::vector<int32_t> depth_, end_, tok_begin_;  // tok_begin_ has one more entry
  std::vector<int32_t> tokens_;
  std::vector<int32_t> rank_;
  std::vector<uint8_t> data_;
  std::vector<uint32_t> offsets_;
  int32_t max_depth_ = 0;
};

}  // namespace xlam
