#include <algorithm>
#include <vector>

#include "convert.h"
#include "kernels.h"
#include "ops.h"

namespace xlam::cpu {

namespace {

// Token blocks sized so a block of x rows stays in the core's L2 while weight panels stream past.
constexpr int64_t kTokenBlockBytes = 1 << 20;
// Weight rows per panel (converted to f32 together), in register tiles.
constexpr int64_t kPanelTiles = 8;

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
  const Kernels& k = *ctx.kernels;
  const int64_t panel_rows = kPanelTiles * k.row_tile;
  const int64_t token_block = std::max<int64_t>(1, kTokenBlockBytes / (n_in * 4) / k.token_tile) * k.token_tile;
  const int64_t n_panels = (n_out + panel_rows - 1) / panel_rows;
  const bool fused = w.dtype == DType::kBF16 && k.panel_bf16;
  const bool f32 = w.dtype == DType::kF32;
  const size_t elem = dtype_size(w.dtype);
  std::vector<float> interleaved;
  int64_t ldx = n_in;
  if (fused) {
    ldx = (n_in + k.bf16_block - 1) / k.bf16_block * k.bf16_block;
    interleaved.resize(static_cast<size_t>(n_tokens * ldx));
    interleave_bf16_order(interleaved.data(), x, n_tokens, n_in, k.bf16_block);
  }
  ctx.pool->parallel_for(n_panels, [&](int64_t pb, int64_t pe) {
    std::vector<float> converted(f32 || fused ? 0 : static_cast<size_t>(panel_rows * n_in));
    for (int64_t t0 = 0; t0 < n_tokens; t0 += token_block) {
      const int64_t nt = std::min(token_block, n_tokens - t0);
      for (int64_t p = pb; p < pe; ++p) {
        const int64_t o0 = p * panel_rows, nr = std::min(panel_rows, n_out - o0);
        float* o = out + t0 * n_out + o0;
        if (fused) {
          k.panel_bf16(o, n_out, interleaved.data() + t0 * ldx, nt, static_cast<const uint16_t*>(w.data) + o0 * n_in, nr,
                       n_in);
        } else {
          const float* rows = static_cast<const float*>(w.data) + o0 * n_in;
          if (!f32) {
            k.convert(converted.data(), static_cast<const uint8_t*>(w.data) + o0 * n_in * elem, w.dtype, nr * n_in);
            rows = converted.data();
          }
          k.panel(o, n_out, x + t0 * n_in, nt, rows, nr, n_in);
        }
        if (bias)
          for (int64_t t = 0; t < nt; ++t)
            for (int64_t r = 0; r < nr; ++r) o[t * n_out + r] += load_f32(bias->data, bias->dtype, o0 + r);
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
