#include <cmath>

#include "ops.h"

namespace xlam::cpu {

Status silu_mul(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_ff]
                const Tensor& gate,                      // f32 [n_tokens, n_ff]
                const Tensor& up) {                      // f32 [n_tokens, n_ff]
  XLAM_TRY(check_silu_mul(out, gate, up));
  float* o = static_cast<float*>(out.data);
  const float* g = static_cast<const float*>(gate.data);
  const float* u = static_cast<const float*>(up.data);
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  };
  if (ctx.reference) {
    for (int64_t i = 0; i < out.numel(); ++i) {
      double x = g[i];
      o[i] = static_cast<float>(x / (1.0 + std::exp(-x)) * u[i]);
    }
  } else {
    ctx.pool->parallel_for(out.numel(), body);
  }
  return Status::Ok();
}

}  // namespace xlam::cpu
