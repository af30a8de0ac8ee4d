#include <cmath>

#include "convert.h"
#include "ops.h"

namespace xlam::cpu {

namespace {

void norm_row(float* out, const float* x, const Tensor& w, int64_t d, float eps, bool reference) {
  float inv;
  if (reference) {
    double ss = 0;
    for (int64_t i = 0; i < d; ++i) ss += static_cast<double>(x[i]) * x[i];
    inv = static_cast<float>(1.0 / std::sqrt(ss / d + eps));
  } else {
    inv = 1.0f / std::sqrt(dot_fixed_order(x, x, d) / static_cast<float>(d) + eps);  // fixed order: batch-invariant
  }
  for (int64_t i = 0; i < d; ++i) out[i] = load_f32(w.data, w.dtype, i) * (x[i] * inv);
}

}  // namespace

Status rms_norm(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_embd]
                const Tensor& x,                         // f32 [n_tokens, n_embd]
                const Tensor& weight,                    // w [n_embd]
                float eps) {
  XLAM_TRY(check_rms_norm(out, x, weight));
  const int64_t n = x.shape[0], d = x.shape[1];
  float* o = static_cast<float*>(out.data);
  const float* s = static_cast<const float*>(x.data);
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) norm_row(o + r * d, s + r * d, weight, d, eps, ctx.reference);
  };
  if (ctx.reference) body(0, n); else ctx.pool->parallel_for(n, body);
  return Status::Ok();
}

Status add_rms_norm(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_embd]
                    const Tensor& residual,                  // f32 [n_tokens, n_embd], in place
                    const Tensor& delta,                     // f32 [n_tokens, n_embd]
                    const Tensor& weight,                    // w [n_embd]
                    float eps) {
  XLAM_TRY(check_add_rms_norm(out, residual, delta, weight));
  const int64_t n = residual.shape[0], d = residual.shape[1];
  float* o = static_cast<float*>(out.data);
  float* res = static_cast<float*>(residual.data);
  const float* dl = static_cast<const float*>(delta.data);
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      float* row = res + r * d;
      for (int64_t i = 0; i < d; ++i) row[i] += dl[r * d + i];
      norm_row(o + r * d, row, weight, d, eps, ctx.reference);
    }
  };
  if (ctx.reference) body(0, n); else ctx.pool->parallel_for(n, body);
  return Status::Ok();
}

}  // namespace xlam::cpu
