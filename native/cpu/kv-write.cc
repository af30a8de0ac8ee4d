#include <cstring>

#include "ops.h"

namespace xlam::cpu {

Status kv_write(const Context& ctx, const Tensor& k_cache,  // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                const Tensor& v_cache,                       // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                const Tensor& k,                             // f32 [n_tokens, n_kv_heads, head_dim]
                const Tensor& v,                             // f32 [n_tokens, n_kv_heads, head_dim]
                const Tensor& slot_mapping) {                // i32 [n_tokens]
  const char* op = "kv_write";
  XLAM_TRY(expect_f32(k_cache, 4, op, "k_cache"));
  XLAM_TRY(expect_f32(v_cache, 4, op, "v_cache"));
  XLAM_TRY(expect_f32(k, 3, op, "k"));
  XLAM_TRY(expect_f32(v, 3, op, "v"));
  XLAM_TRY(expect_i32(slot_mapping, 1, op, "slot_mapping"));
  XLAM_TRY(expect(k_cache.shape == v_cache.shape && k.shape == v.shape, op, "k/v shapes must match"));
  XLAM_TRY(expect(k.shape[1] == k_cache.shape[2] && k.shape[2] == k_cache.shape[3], op,
                  "k must be [n_tokens, n_kv_heads, head_dim] of the cache"));
  XLAM_TRY(expect(slot_mapping.shape[0] == k.shape[0], op, "slot_mapping must be [n_tokens]"));
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
  XLAM_TRY(expect_f32(k_cache, 4, op, "k_cache"));
  XLAM_TRY(expect_f32(v_cache, 4, op, "v_cache"));
  XLAM_TRY(expect_i32(block_pairs, 2, op, "block_pairs"));
  XLAM_TRY(expect(k_cache.shape == v_cache.shape, op, "k/v shapes must match"));
  XLAM_TRY(expect(block_pairs.shape[1] == 2, op, "block_pairs must be [n_pairs, 2]"));
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
