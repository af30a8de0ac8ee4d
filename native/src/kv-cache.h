// The paged KV cache: per layer, K and V pools of fixed-size blocks in backend memory, a block
// allocator with reference counts, and append-only block tables per sequence.
#pragma once
#include <cstdint>
#include <vector>

#include "backend.h"

namespace xlam {

struct KvCacheShape {
  int64_t n_layers = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t block_size = 16;  // tokens per block
  int64_t n_blocks = 0;
};

// Free blocks and reference counts. Blocks are handed out lowest index first.
class BlockPool {
 public:
  void reset(int64_t n_blocks);
  int64_t total() const { return static_cast<int64_t>(ref_.size()); }
  int64_t free_count() const { return static_cast<int64_t>(free_.size()); }
  // Takes n blocks (reference count 1) or none, returning false, when fewer are free.
  bool allocate(int64_t n, std::vector<int32_t>* out);
  // Drops one reference to each block; a block at 0 returns to the free list.
  void release(const std::vector<int32_t>& blocks);

 private:
  std::vector<int32_t> free_;  // stack; top = next block handed out
  std::vector<int32_t> ref_;   // [n_blocks]
};

// One sequence's place in the cache.
struct SeqSlots {
  std::vector<int32_t> blocks;  // block table, append-only
  int64_t n_tokens = 0;         // positions 0..n_tokens-1 hold K/V
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
  BlockPool& pool() { return pool_; }

 private:
  Backend* backend_ = nullptr;
  KvCacheShape shape_;
  std::vector<Tensor> k_, v_;  // [n_layers]
  BlockPool pool_;
};

}  // namespace xlam
