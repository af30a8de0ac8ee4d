#include "vocab-trie.h"

#include <algorithm>
#include <cstring>

namespace xlam {

Status VocabTrie::build(const uint8_t* data, size_t data_len, const uint32_t* offsets, const uint8_t* allowed, int64_t n_vocab,
                        VocabTrie* out) {
  if (n_vocab <= 0 || n_vocab > (int64_t{1} << 30)) return Status::Error(Code::kInvalidArgument, "token bytes: bad vocabulary size");
  if (offsets[0] != 0) return Status::Error(Code::kInvalidArgument, "token bytes: offsets must start at 0");
  for (int64_t i = 0; i < n_vocab; ++i)
    if (offsets[i + 1] < offsets[i] || offsets[i + 1] > data_len)
      return Status::Error(Code::kInvalidArgument, "token bytes: offsets must ascend within the data");
  VocabTrie t;
  t.n_vocab_ = n_vocab;
  t.data_.assign(data, data + offsets[n_vocab]);
  t.offsets_.assign(offsets, offsets + n_vocab + 1);
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n_vocab; ++i)
    if (allowed[i] && offsets[i + 1] > offsets[i]) ids.push_back(static_cast<int32_t>(i));
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    const std::string_view x = t.bytes_unchecked(a), y = t.bytes_unchecked(b);
    return x < y || (x == y && a < b);
  });
  t.rank_.assign(static_cast<size_t>(n_vocab), -1);
  for (size_t r = 0; r < ids.size(); ++r) t.rank_[static_cast<size_t>(ids[r])] = static_cast<int32_t>(r);
  // Preorder from the sorted strings: the path is the previous token's nodes.
  std::vector<int32_t> path;  // node ids by depth-1
  std::string_view prev;
  std::vector<int32_t> node_tokens_count;
  std::vector<std::pair<int32_t, int32_t>> token_node;  // (node, token) in order
  for (int32_t id : ids) {
    const std::string_view s = t.bytes_unchecked(id);
    size_t lcp = 0;
    while (lcp < s.size() && lcp < prev.size() && s[lcp] == prev[lcp]) ++lcp;
    lcp = std::min(lcp, path.size());
    while (path.size() > lcp) {
      t.end_[static_cast<size_t>(path.back())] = static_cast<int32_t>(t.byte_.size());
      path.pop_back();
    }
    for (size_t d = lcp; d < s.size(); ++d) {
      const int32_t n = static_cast<int32_t>(t.byte_.size());
      t.byte_.push_back(static_cast<uint8_t>(s[d]));
      t.depth_.push_back(static_cast<int32_t>(d + 1));
      t.end_.push_back(-1);
      path.push_back(n);
    }
    token_node.push_back({path.back(), id});
    t.max_depth_ = std::max(t.max_depth_, static_cast<int32_t>(s.size()));
    prev = s;
  }
  while (!path.empty()) {
    t.end_[static_cast<size_t>(path.back())] = static_cast<int32_t>(t.byte_.size());
    path.pop_back();
  }
  // token_node is in preorder of nodes already (sorted strings); group by node.
  const size_t n_nodes = t.byte_.size();
  t.tok_begin_.assign(n_nodes + 1, 0);
  for (const auto& [n, id] : token_node) t.tok_begin_[static_cast<size_t>(n) + 1] += 1;
  for (size_t i = 0; i < n_nodes; ++i) t.tok_begin_[i + 1] += t.tok_begin_[i];
  t.tokens_.resize(token_node.size());
  {
    std::vector<int32_t> fill(t.tok_begin_.begin(), t.tok_begin_.end() - 1);
    for (const auto& [n, id] : token_node) t.tokens_[static_cast<size_t>(fill[static_cast<size_t>(n)]++)] = id;
  }
  *out = std::move(t);
  return Status::Ok();
}

std::string_view VocabTrie::bytes_unchecked(int32_t token) const {
  const uint32_t a = offsets_[static_cast<size_t>(token)], b = offsets_[static_cast<size_t>(token) + 1];
  return std::string_view(reinterpret_cast<const char*>(data_.data()) + a, b - a);
}

std::string_view VocabTrie::bytes(int32_t token) const {
  if (token < 0 || token >= n_vocab_ || rank_[static_cast<size_t>(token)] < 0) return {};
  return bytes_unchecked(token);
}

int32_t VocabTrie::longest_prefix(const uint8_t* s, size_t n, size_t* len) const {
  int32_t best = -1;
  *len = 0;
  // Walk children: at depth d the children of node p are p+1, end(p+1), ... until end(p).
  int32_t lo = 0, hi = n_nodes();
  for (size_t d = 0; d < n; ++d) {
    int32_t c = lo;
    while (c < hi && byte_[static_cast<size_t>(c)] != s[d]) c = end_[static_cast<size_t>(c)];
    if (c >= hi) break;
    if (tok_begin_[static_cast<size_t>(c) + 1] > tok_begin_[static_cast<size_t>(c)]) {
      best = tokens_[static_cast<size_t>(tok_begin_[static_cast<size_t>(c)])];
      *len = d + 1;
    }
    lo = c + 1;
    hi = end_[static_cast<size_t>(c)];
  }
  return best;
}

size_t VocabTrie::memory_bytes() const {
  return byte_.size() * 13 + tokens_.size() * 4 + rank_.size() * 4 + data_.size() + offsets_.size() * 4;
}

}  // namespace xlam
