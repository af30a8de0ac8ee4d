#include <cmath>

#include "ops.h"

namespace xlam::cpu {

Status rope(const Context& ctx, const Tensor& x,  // f32 [n_tokens, n_heads, head_dim], in place
            const Tensor& positions,              // i32 [n_tokens]
            const Tensor& inv_freq,               // f32 [head_dim / 2]
            float attn_factor) {
  XLAM_TRY(check_rope(x, positions, inv_freq));
  const int64_t n = x.shape[0], n_heads = x.shape[1], hd = x.shape[2], half = hd / 2;
  float* data = static_cast<float*>(x.data);
  const int32_t* pos = static_cast<const int32_t*>(positions.data);
  const float* freq = static_cast<const float*>(inv_freq.data);
  // As HF: angle = f32(position) * inv_freq in f32; cos/sin of it, times the attention factor.
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const float p = static_cast<float>(pos[t]);
      for (int64_t j = 0; j < half; ++j) {
        const float angle = p * freq[j];
        const float c = static_cast<float>(std::cos(static_cast<double>(angle))) * attn_factor;
        const float s = static_cast<float>(std::sin(static_cast<double>(angle))) * attn_factor;
        for (int64_t h = 0; h < n_heads; ++h) {
          float* row = data + (t * n_heads + h) * hd;
          const float x0 = row[j], x1 = row[j + half];
          row[j] = x0 * c - x1 * s;
          row[j + half] = x1 * c + x0 * s;
        }
      }
    }
  };
  if (ctx.reference) body(0, n); else ctx.pool->parallel_for(n, body);
  return Status::Ok();
}

}  // namespace xlam::cpu
