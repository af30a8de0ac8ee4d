#include <algorithm>
#include <vector>

#include "convert.h"
#include "ops.h"

namespace xlam::cpu {

namespace {

// Dot product with a fixed reduction order (8 lanes, fixed tree, then the tail): the result for
// one (token, output) pair never depends on how many tokens are in the batch.
inline float dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

constexpr int64_t kRowTile = 8;  // weight rows converted to f32 at a time

}  // namespace

void matmul_rows(const Context& ctx, float* out, const float* x, int64_t n_tokens, const Tensor& w,
                 const Tensor* bias) {
  const int64_t n_out = w.shape[0], n_in = w.shape[1];
  if (ctx.reference) {
    for (int64_t t = 0; t < n_tokens; ++t)
      for (int64_t o = 0; o < n_out; ++o) {
        double acc = 0;
        for (int64_t k = 0; k < n_in; ++k)
          acc += static_cast<double>(x[t * n_in + k]) * load_f32(w.data, w.dtype, o * n_in + k);
        if (bias) acc += load_f32(bias->data, bias->dtype, o);
        out[t * n_out + o] = static_cast<float>(acc);
      }
    return;
  }
  const int64_t n_tiles = (n_out + kRowTile - 1) / kRowTile;
  ctx.pool->parallel_for(n_tiles, [&](int64_t tb, int64_t te) {
    std::vector<float> tile(w.dtype == DType::kF32 ? 0 : static_cast<size_t>(kRowTile * n_in));
    for (int64_t ti = tb; ti < te; ++ti) {
      const int64_t o0 = ti * kRowTile, o1 = std::min(n_out, o0 + kRowTile);
      const float* rows;
      if (w.dtype == DType::kF32) {
        rows = static_cast<const float*>(w.data) + o0 * n_in;
      } else {
        for (int64_t o = o0; o < o1; ++o) load_row_f32(tile.data() + (o - o0) * n_in, w.data, w.dtype, o * n_in, n_in);
        rows = tile.data();
      }
      for (int64_t t = 0; t < n_tokens; ++t) {
        const float* xt = x + t * n_in;
        float* ot = out + t * n_out;
        for (int64_t o = o0; o < o1; ++o) {
          float v = dot(xt, rows + (o - o0) * n_in, n_in);
          if (bias) v += load_f32(bias->data, bias->dtype, o);
          ot[o] = v;
        }
      }
    }
  });
}

Status matmul(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_out]
              const Tensor& x,                         // f32 [n_tokens, n_in]
              const Tensor& w,                         // w [n_out, n_in]
              const Tensor* bias) {                    // w [n_out] or nullptr
  const char* op = "matmul";
  XLAM_TRY(expect_f32(out, 2, op, "out"));
  XLAM_TRY(expect_f32(x, 2, op, "x"));
  XLAM_TRY(expect_weight(w, 2, op, "w"));
  XLAM_TRY(expect(x.shape[1] == w.shape[1], op, "x and w must share n_in"));
  XLAM_TRY(expect(out.shape[0] == x.shape[0] && out.shape[1] == w.shape[0], op, "out must be [n_tokens, n_out]"));
  if (bias) {
    XLAM_TRY(expect_weight(*bias, 1, op, "bias"));
    XLAM_TRY(expect(bias->shape[0] == w.shape[0], op, "bias must be [n_out]"));
  }
  matmul_rows(ctx, static_cast<float*>(out.data), static_cast<const float*>(x.data), x.shape[0], w, bias);
  return Status::Ok();
}

}  // namespace xlam::cpu
