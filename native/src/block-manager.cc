#include "block-manager.h"

#include <algorithm>
#include <string>

namespace xlam {

void BlockManager::reset(int64_t n_blocks, int64_t block_size) {
  block_size_ = block_size;
  blocks_.assign(static_cast<size_t>(n_blocks), Block{});
  free_.clear();
  by_key_.clear();
  for (int32_t b = 0; b < static_cast<int32_t>(n_blocks); ++b) {
    blocks_[b].free_pos = free_.insert(free_.end(), b);
    blocks_[b].in_free = true;
  }
}

uint64_t BlockManager::chain_hash(uint64_t parent, const int32_t* tokens, int64_t n) {
  // splitmix64-style mixing of the parent and every token; 0 is reserved for "no parent".
  auto mix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  };
  uint64_t h = mix(parent ^ 0x51ed270b27efc6a1ull);
  for (int64_t i = 0; i < n; ++i) h = mix(h ^ static_cast<uint32_t>(tokens[i]));
  return h == 0 ? 1 : h;
}

std::vector<int32_t> BlockManager::match_prefix(const int32_t* tokens, int64_t n_tokens, std::vector<uint64_t>* hashes) {
  std::vector<int32_t> out;
  uint64_t parent = 0;
  for (int64_t start = 0; start + block_size_ <= n_tokens; start += block_size_) {
    const int32_t* blk = tokens + start;
    const uint64_t h = chain_hash(parent, blk, block_size_);
    int32_t found = -1;
    auto range = by_key_.equal_range(h);
    for (auto it = range.first; it != range.second; ++it) {
      const Block& b = blocks_[it->second];
      if (b.parent == parent && std::equal(b.tokens.begin(), b.tokens.end(), blk)) {
        found = it->second;
        break;
      }
    }
    if (found < 0) break;
    Block& b = blocks_[found];
    if (b.in_free) {
      free_.erase(b.free_pos);
      b.in_free = false;
    }
    b.ref += 1;
    out.push_back(found);
    if (hashes) hashes->push_back(h);
    parent = h;
  }
  return out;
}

void BlockManager::take(int32_t id) {
  Block& b = blocks_[id];
  free_.erase(b.free_pos);
  b.in_free = false;
  if (b.cached) {  // evict
    auto range = by_key_.equal_range(b.hash);
    for (auto it = range.first; it != range.second; ++it)
      if (it->second == id) {
        by_key_.erase(it);
        break;
      }
    b.cached = false;
    b.tokens.clear();
  }
}

bool BlockManager::allocate(int64_t n, std::vector<int32_t>* out) {
  if (n > free_count()) return false;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = free_.front();
    take(id);
    blocks_[id].ref = 1;
    out->push_back(id);
  }
  return true;
}

void BlockManager::release(const std::vector<int32_t>& blocks) {
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    const int32_t id = *it;
    if (id < 0 || id >= total()) continue;
    Block& b = blocks_[id];
    if (b.ref <= 0) continue;
    if (--b.ref > 0) continue;
    // Uncached blocks are reused first; cached ones wait at the back, evicted in freeing order.
    b.free_pos = b.cached ? free_.insert(free_.end(), id) : free_.insert(free_.begin(), id);
    b.in_free = true;
  }
}

uint64_t BlockManager::commit(int32_t id, uint64_t parent, const int32_t* tokens) {
  const uint64_t h = chain_hash(parent, tokens, block_size_);
  Block& b = blocks_[id];
  if (b.cached) return b.hash;
  auto range = by_key_.equal_range(h);
  for (auto it = range.first; it != range.second; ++it) {
    const Block& o = blocks_[it->second];
    if (o.parent == parent && std::equal(o.tokens.begin(), o.tokens.end(), tokens)) return h;  // already cached
  }
  b.cached = true;
  b.hash = h;
  b.parent = parent;
  b.tokens.assign(tokens, tokens + block_size_);
  by_key_.emplace(h, id);
  return h;
}

std::string BlockManager::check() const {
  const int64_t n = total();
  std::vector<int> in_list(static_cast<size_t>(n), 0);
  for (int32_t id : free_) {
    if (id < 0 || id >= n) return "free list holds block " + std::to_string(id) + " of " + std::to_string(n);
    in_list[static_cast<size_t>(id)] += 1;
  }
  int64_t entries = 0;
  for (int32_t id = 0; id < static_cast<int32_t>(n); ++id) {
    const Block& b = blocks_[static_cast<size_t>(id)];
    const std::string name = "block " + std::to_string(id);
    if (b.ref < 0) return name + ": negative reference count " + std::to_string(b.ref);
    if (in_list[static_cast<size_t>(id)] > 1) return name + ": in the free list twice";
    if ((in_list[static_cast<size_t>(id)] == 1) != (b.ref == 0) || b.in_free != (b.ref == 0))
      return name + ": reference count " + std::to_string(b.ref) + (b.in_free ? " but" : " and not") + " in the free list";
    if (b.cached) {
      entries += 1;
      if (static_cast<int64_t>(b.tokens.size()) != block_size_) return name + ": cached without its tokens";
      int found = 0;
      auto range = by_key_.equal_range(b.hash);
      for (auto it = range.first; it != range.second; ++it) found += it->second == id;
      if (found != 1) return name + ": cached, with " + std::to_string(found) + " cache entries";
    }
  }
  if (entries != static_cast<int64_t>(by_key_.size()))
    return std::to_string(by_key_.size()) + " cache entries for " + std::to_string(entries) + " cached blocks";
  return {};
}

}  // namespace xlam
