// KV block allocation with reference counts and automatic prefix caching, after vLLM: a full
// block is identified by a hash chained to its parent's, so a hit on block k implies hits on
// blocks 0..k-1; identical prefixes share blocks; a freed cached block stays reusable until it is
// evicted, least recently freed first. Lookups compare the block's tokens exactly, not only hashes.
#pragma once
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

namespace xlam {

class BlockManager {
 public:
  void reset(int64_t n_blocks, int64_t block_size);

  int64_t total() const { return static_cast<int64_t>(blocks_.size()); }
  int64_t block_size() const { return block_size_; }
  // Blocks with no reference (cached or not): what allocate() can hand out.
  int64_t free_count() const { return static_cast<int64_t>(free_.size()); }
  int64_t used_count() const { return total() - free_count(); }
  // Blocks holding a cached full-block hash (referenced or not).
  int64_t cached_count() const { return static_cast<int64_t>(by_key_.size()); }
  int32_t ref_count(int32_t block) const { return blocks_[block].ref; }

  // The hash of a full block of tokens under a parent hash (0 for the first block).
  static uint64_t chain_hash(uint64_t parent, const int32_t* tokens, int64_t n);

  // Cached full blocks matching tokens[0 .. n_tokens) from the start, longest run first; each
  // gets a reference. Their chained hashes go to *hashes.
  std::vector<int32_t> match_prefix(const int32_t* tokens, int64_t n_tokens, std::vector<uint64_t>* hashes);

  // n blocks (reference 1), never-cached free blocks first, then evicting the least recently
  // freed cached ones. Takes none and returns false when fewer than n are free.
  bool allocate(int64_t n, std::vector<int32_t>* out);

  // Drops one reference to each block, tail first.
  void release(const std::vector<int32_t>& blocks);

  // Records that `block`, whose KV now holds `tokens` (block_size of them) after the prefix
  // hashed `parent`, is a full block others may share. Returns its chained hash. If an
  // identical block is already cached, this one stays uncached (and is reused first when freed).
  uint64_t commit(int32_t block, uint64_t parent, const int32_t* tokens);
  bool is_cached(int32_t block) const { return blocks_[block].cached; }
  // The manager's own invariants (for tests): the free list holds exactly the blocks without a
  // reference, each once; no reference count is negative; every cache entry names a cached block
  // under its hash, and every cached block has one entry. Empty when they hold, else what broke.
  std::string check() const;

 private:
  struct Block {
    int32_t ref = 0;
    bool cached = false;
    uint64_t hash = 0;
    uint64_t parent = 0;
    std::vector<int32_t> tokens;  // the block's tokens while cached
    std::list<int32_t>::iterator free_pos;
    bool in_free = false;
  };
  void take(int32_t b);  // remove from the free list, evicting its cache entry

  int64_t block_size_ = 16;
  std::vector<Block> blocks_;
  std::list<int32_t> free_;  // front: next handed out
  std::unordered_multimap<uint64_t, int32_t> by_key_;  // chained hash -> cached block
};

}  // namespace xlam
