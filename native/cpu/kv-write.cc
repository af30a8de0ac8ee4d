#include <cstring>

#include "ops.h"

namespace xlam::cpu {

Status kv_write(const Context& ctx, const Tensor& k_cache,  // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                const Tensor& v_cache,                       // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                const Tensor& k,                             // f32 [n_tokens, n_kv_heads, head_dim]
                const Tensor& v,                             // f32 [n_tokens, n_kv_heads, head_dim]
                const Tensor& slot_mapping) {                // i32 [n_tokens]
  const char* op = "kv_write";
  XLAM_TRY(check_kv_write(k_cache, v_cache, k, v, slot_mapping));
  const int64_t n = k.shape[0], row = k.shape[1] * k.shape[2];
  const int64_t n_slots = k_cache.shape[0] * k_cache.shape[1];
  const int32_t* slot = static_cast<const int32_t*>(slot_mapping.data);
  for (int64_t i = 0; i < n; ++i)
    if (slot[i] >= n_slots) return expect(false, op, "slot out of range");
  (void)ctx;
  for (int64_t i = 0; i < n; ++i) {
    if (slot[i] < 0) continue;  // padding
    std::memcpy(static_cast<float*>(k_cache.data) + slot[i] * row, static_cast<const float*>(k.data) + i * row, row * 4);
    std::memcpy(static_cast<float*>(v_cache.data) + slot[i] * row, static_cast<const float*>(v.data) + i * row, row * 4);
  }
  return Status::Ok();
}

Status copy_blocks(const Context& ctx, const Tensor& k_cache,  // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                   const Tensor& v_cache,                       // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                   const Tensor& block_pairs) {                 // i32 [n_pairs, 2]: (src, dst)
  const char* op = "copy_blocks";
  XLAM_TRY(check_copy_blocks(k_cache, v_cache, block_pairs));
  const int64_t n_blocks = k_cache.shape[0], n_pairs = block_pairs.shape[0];
  const int64_t block = k_cache.shape[1] * k_cache.shape[2] * k_cache.shape[3];
  const int32_t* pair = static_cast<const int32_t*>(block_pairs.data);
  for (int64_t i = 0; i < 2 * n_pairs; ++i)
    if (pair[i] < 0 || pair[i] >= n_blocks) return expect(false, op, "block index out of range");
  (void)ctx;
  for (int64_t i = 0; i < n_pairs; ++i) {
    const int64_t src = pair[2 * i], dst = pair[2 * i + 1];
    if (src == dst) continue;
    std::memcpy(static_cast<float*>(k_cache.data) + dst * block, static_cast<const float*>(k_cache.data) + src * block, block * 4);
    std::memcpy(static_cast<float*>(v_cache.data) + dst * block, static_cast<const float*>(v_cache.data) + src * block, block * 4);
  }
  return Status::Ok();
}

}  // namespace xlam::cpu
