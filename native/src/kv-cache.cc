#include "kv-cache.h"

#include <string>

namespace xlam {

void BlockPool::reset(int64_t n_blocks) {
  ref_.assign(static_cast<size_t>(n_blocks), 0);
  free_.clear();
  for (int64_t b = n_blocks - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));
}

bool BlockPool::allocate(int64_t n, std::vector<int32_t>* out) {
  if (n > free_count()) return false;
  for (int64_t i = 0; i < n; ++i) {
    int32_t b = free_.back();
    free_.pop_back();
    ref_[b] = 1;
    out->push_back(b);
  }
  return true;
}

void BlockPool::release(const std::vector<int32_t>& blocks) {
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {  // tail first
    int32_t b = *it;
    if (b < 0 || b >= total() || ref_[b] <= 0) continue;
    if (--ref_[b] == 0) free_.push_back(b);
  }
}

KvCache::~KvCache() {
  if (!backend_) return;
  for (auto& t : k_) backend_->release(&t);
  for (auto& t : v_) backend_->release(&t);
}

Status KvCache::init(Backend* backend, const KvCacheShape& shape) {
  if (shape.block_size <= 0 || shape.n_blocks <= 0 || shape.n_layers <= 0)
    return Status::Error(Code::kInvalidArgument, "kv cache: block_size, n_blocks and n_layers must be positive");
  if (shape.n_blocks * shape.block_size > INT32_MAX)
    return Status::Error(Code::kInvalidArgument, "kv cache: more than 2^31 slots");
  backend_ = backend;
  shape_ = shape;
  k_.resize(static_cast<size_t>(shape.n_layers));
  v_.resize(static_cast<size_t>(shape.n_layers));
  const Shape s{shape.n_blocks, shape.block_size, shape.n_kv_heads, shape.head_dim};
  for (int64_t il = 0; il < shape.n_layers; ++il) {
    XLAM_TRY(backend->alloc(DType::kF32, s, &k_[il]));
    XLAM_TRY(backend->alloc(DType::kF32, s, &v_[il]));
  }
  pool_.reset(shape.n_blocks);
  return Status::Ok();
}

Status KvCache::reserve(SeqSlots* seq, int64_t n_tokens) {
  const int64_t need = (n_tokens + shape_.block_size - 1) / shape_.block_size;
  const int64_t have = static_cast<int64_t>(seq->blocks.size());
  if (need <= have) return Status::Ok();
  if (!pool_.allocate(need - have, &seq->blocks))
    return Status::Error(Code::kContextOverflow, "kv cache full: " + std::to_string(n_tokens) +
                                                     " tokens need " + std::to_string(need) + " blocks, " +
                                                     std::to_string(pool_.free_count() + have) + " available");
  return Status::Ok();
}

void KvCache::free_seq(SeqSlots* seq) {
  pool_.release(seq->blocks);
  seq->blocks.clear();
  seq->n_tokens = 0;
}

}  // namespace xlam
