#include "kv-cache.h"

#include <string>

namespace xlam {

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
  blocks_.reset(shape.n_blocks, shape.block_size);
  return Status::Ok();
}

Status KvCache::reserve(SeqSlots* seq, int64_t n_tokens) {
  const int64_t need = (n_tokens + shape_.block_size - 1) / shape_.block_size;
  const int64_t have = static_cast<int64_t>(seq->blocks.size());
  if (need <= have) return Status::Ok();
  if (!blocks_.allocate(need - have, &seq->blocks))
    return Status::Error(Code::kContextOverflow, "kv cache full: " + std::to_string(n_tokens) +
                                                     " tokens need " + std::to_string(need) + " blocks, " +
                                                     std::to_string(blocks_.free_count() + have) + " available");
  return Status::Ok();
}

void KvCache::free_seq(SeqSlots* seq) {
  blocks_.release(seq->blocks);
  seq->blocks.clear();
  seq->hashes.clear();
  seq->n_tokens = 0;
}

int64_t KvCache::attach_prefix(SeqSlots* seq, const int32_t* tokens, int64_t max_tokens) {
  if (!seq->blocks.empty()) return seq->n_tokens;
  seq->blocks = blocks_.match_prefix(tokens, max_tokens, &seq->hashes);
  seq->n_tokens = static_cast<int64_t>(seq->blocks.size()) * shape_.block_size;
  return seq->n_tokens;
}

void KvCache::commit_full_blocks(SeqSlots* seq, const int32_t* tokens, int64_t n_tokens) {
  const int64_t bs = shape_.block_size;
  for (int64_t k = static_cast<int64_t>(seq->hashes.size()); (k + 1) * bs <= n_tokens; ++k) {
    const uint64_t parent = k == 0 ? 0 : seq->hashes[k - 1];
    seq->hashes.push_back(blocks_.commit(seq->blocks[k], parent, tokens + k * bs));
  }
}

}  // namespace xlam
