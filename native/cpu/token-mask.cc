// apply_token_mask (backend.h): grammar masks on rows of logits.
#include <algorithm>
#include <cmath>

#include "ops.h"

namespace xlam::cpu {

Status apply_token_mask(const Context& ctx, const Tensor& logits,  // f32 [n_rows, n_vocab], in place
                        const Tensor& mask) {                        // i32 [n_rows, n_words]
  XLAM_TRY(check_apply_token_mask(logits, mask));
  const int64_t n_rows = logits.shape[0], n_vocab = logits.shape[1], n_words = mask.shape[1];
  float* l = static_cast<float*>(logits.data);
  const uint32_t* m = static_cast<const uint32_t*>(mask.data);
  if (ctx.reference) {
    for (int64_t r = 0; r < n_rows; ++r)
      for (int64_t i = 0; i < n_vocab; ++i) {
        const int64_t w = i / 32;
        const bool allowed = w < n_words && ((m[r * n_words + w] >> (i % 32)) & 1u);
        if (!allowed) l[r * n_vocab + i] = -INFINITY;
      }
    return Status::Ok();
  }
  // Whole words at once: all-allowed words are skipped, all-disallowed ones filled.
  ctx.pool->parallel_for(n_rows, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      float* row = l + r * n_vocab;
      const uint32_t* words = m + r * n_words;
      const int64_t covered = std::min(n_vocab, n_words * 32);
      for (int64_t w = 0; w * 32 < covered; ++w) {
        const uint32_t bits = words[w];
        const int64_t end = std::min(covered, (w + 1) * 32);
        if (bits == ~0u) continue;
        if (bits == 0) {
          std::fill(row + w * 32, row + end, -INFINITY);
          continue;
        }
        for (int64_t i = w * 32; i < end; ++i)
          if (!((bits >> (i & 31)) & 1u)) row[i] = -INFINITY;
      }
      std::fill(row + covered, row + n_vocab, -INFINITY);
    }
  });
  return Status::Ok();
}

}  // namespace xlam::cpu
