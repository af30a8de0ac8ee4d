// The paged KV cache: per layer, K and V pools of fixed-size blocks in backend memory, the block
// manager (reference counts, prefix caching), and append-only block tables per sequence.
#pragma once
#include <cstdint>
#include <vector>

#include "backend.h"
#include "block-manager.h"

namespace xlam {

struct KvCacheShape {
  int64_t n_layers = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t block_size = 16;  // tokens per block
  int64_t n_blocks = 0;
};

// One sequence's place in the cache.
struct SeqSlots {
  std::vector<int32_t> blocks;        // block table, append-only
  std::vector<uint64_t> hashes;       // chained hashes of the leading full blocks committed so far
  int64_t n_tokens = 0;               // positions 0..n_tokens-1 hold K/V
};

class KvCache {
 public:
  KvCache() = default;
  ~KvCache();
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  Status init(Backend* backend, const KvCacheShape& shape);
  const KvCacheShape& shape() const { return shape_; }
  int64_t capacity_tokens() const { return shape_.n_blocks * shape_.block_size; }

  const Tensor& k(int64_t il) const { return k_[il]; }  // f32 [n_blocks, block_size, n_kv_heads, head_dim]
  const Tensor& v(int64_t il) const { return v_[il]; }  // f32 [n_blocks, block_size, n_kv_heads, head_dim]

  // Grow a sequence's block table so it can hold n_tokens positions.
  Status reserve(SeqSlots* seq, int64_t n_tokens);
  // Return a sequence's blocks to the pool.
  void free_seq(SeqSlots* seq);
  // Slot of a position of a sequence (block * block_size + offset).
  int32_t slot(const SeqSlots& seq, int64_t pos) const {
    return static_cast<int32_t>(seq.blocks[pos / shape_.block_size] * shape_.block_size + pos % shape_.block_size);
  }
  // Share cached full blocks matching the start of tokens (at most max_tokens of them);
  // returns how many tokens the sequence then already holds.
  int64_t attach_prefix(SeqSlots* seq, const int32_t* tokens, int64_t max_tokens);
  // Offer the sequence's newly full blocks (up to n_tokens) to the prefix cache.
  void commit_full_blocks(SeqSlots* seq, const int32_t* tokens, int64_t n_tokens);
  BlockManager& blocks() { return blocks_; }
  const BlockManager& blocks() const { return blocks_; }

 private:
  Backend* backend_ = nullptr;
  KvCacheShape shape_;
  std::vector<Tensor> k_, v_;  // [n_layers]
  BlockManager blocks_;
};

}  // namespace xlam
