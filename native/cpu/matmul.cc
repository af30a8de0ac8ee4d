#include <algorithm>
#include <memory>
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
  auto add_bias = [&](float* o, int64_t nt, int64_t o0, int64_t nr) {  // o: f32 [nt, n_out] from column o0
    if (bias)
      for (int64_t t = 0; t < nt; ++t)
        for (int64_t r = 0; r < nr; ++r) o[t * n_out + r] += load_f32(bias->data, bias->dtype, o0 + r);
  };
  if (w.dtype == DType::kBF16 && k.panel_bf16) {
    // Fused bf16: x prepared once (in parallel over token tiles), then each thread runs the kernel
    // over its contiguous share of row tiles, one call per token block.
    const int64_t tile = k.bf16_token_tile, n_tiles = (n_tokens + tile - 1) / tile;
    // Not zero-filled: prepare_bf16 writes every byte the kernel's results depend on.
    std::unique_ptr<uint64_t[]> prepared(new uint64_t[static_cast<size_t>((k.bf16_x_bytes(n_tokens, n_in) + 7) / 8)]);
    uint8_t* xp = reinterpret_cast<uint8_t*>(prepared.get());
    auto prepare = [&](int64_t b, int64_t e) {
      const int64_t t0 = b * tile, t1 = std::min(e * tile, n_tokens);
      if (t0 < t1) k.prepare_bf16(xp + k.bf16_x_bytes(t0, n_in), x + t0 * n_in, t1 - t0, n_in);
    };
    if (n_tiles > 1) ctx.pool->parallel_for(n_tiles, prepare);
    else prepare(0, n_tiles);
    const int64_t per_token = std::max<int64_t>(1, k.bf16_x_bytes(tile, n_in) / tile);
    const int64_t token_block = std::max<int64_t>(1, kTokenBlockBytes / per_token / tile) * tile;
    const int64_t row_tile = k.bf16_row_tile, n_row_tiles = (n_out + row_tile - 1) / row_tile;
    ctx.pool->parallel_for(n_row_tiles, [&](int64_t rb, int64_t re) {
      const int64_t o0 = rb * row_tile, nr = std::min(re * row_tile, n_out) - o0;
      if (nr <= 0) return;
      for (int64_t t0 = 0; t0 < n_tokens; t0 += token_block) {
        const int64_t nt = std::min(token_block, n_tokens - t0);
        float* o = out + t0 * n_out + o0;
        k.panel_bf16(o, n_out, xp + k.bf16_x_bytes(t0, n_in), nt, static_cast<const uint16_t*>(w.data) + o0 * n_in, nr,
                     n_in);
        add_bias(o, nt, o0, nr);
      }
    });
    return;
  }
  // f32 weights as they are; f16 and bf16 ones converted to f32 one panel at a time.
  const bool f32 = w.dtype == DType::kF32;
  const size_t elem = dtype_size(w.dtype);
  const int64_t panel_rows = kPanelTiles * k.row_tile;
  const int64_t token_block = std::max<int64_t>(1, kTokenBlockBytes / std::max<int64_t>(n_in * 4, 1) / k.token_tile) * k.token_tile;
  const int64_t n_panels = (n_out + panel_rows - 1) / panel_rows;
  ctx.pool->parallel_for(n_panels, [&](int64_t pb, int64_t pe) {
    std::vector<float> converted(f32 ? 0 : static_cast<size_t>(panel_rows * n_in));
    for (int64_t t0 = 0; t0 < n_tokens; t0 += token_block) {
      const int64_t nt = std::min(token_block, n_tokens - t0);
      for (int64_t p = pb; p < pe; ++p) {
        const int64_t o0 = p * panel_rows, nr = std::min(panel_rows, n_out - o0);
        const float* rows = static_cast<const float*>(w.data) + o0 * n_in;
        if (!f32) {
          k.convert(converted.data(), static_cast<const uint8_t*>(w.data) + o0 * n_in * elem, w.dtype, nr * n_in);
          rows = converted.data();
        }
        k.panel(out + t0 * n_out + o0, n_out, x + t0 * n_in, nt, rows, nr, n_in);
        add_bias(out + t0 * n_out + o0, nt, o0, nr);
      }
    }
  });
}

Status matmul(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_out]
              const Tensor& x,                         // f32 [n_tokens, n_in]
              const Tensor& w,                         // w [n_out, n_in]
              const Tensor* bias) {                    // w [n_out] or nullptr
  XLAM_TRY(check_matmul(out, x, w, bias));
  matmul_rows(ctx, static_cast<float*>(out.data), static_cast<const float*>(x.data), x.shape[0], w, bias);
  return Status::Ok();
}

}  // namespace xlam::cpu
