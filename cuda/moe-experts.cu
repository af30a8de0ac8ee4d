// moe_experts: out[i] = sum_j expert_weights[i, j] * w2_e(silu(w1_e x_i) * w3_e x_i), e = expert_ids[i, j].
//   1. moe_sort: the n_tokens * top_k entries sorted by expert (stable), each expert's rows padded
//      to the GEMM tile (moe-sort.cu);
//   2. grouped GEMM kGateUp over the sorted rows: h = silu(x w1_e^T) * (x w3_e^T), the x rows
//      gathered as they are staged, gate and up of an output in the same thread (gemm.h);
//   3. grouped GEMM kDown: y = h w2_e^T;
//   4. moe_combine: each token's y rows times their weights, summed in ascending expert order (the
//      CPU op's order), no float atomics.
// The GEMMs are those of matmul (tensor cores on sm_80+ for f16/bf16 weights, SIMT otherwise); a
// row's result does not depend on its tile or on the other rows (gemm.h), so the op is
// batch-invariant. Scratch (sorted list, positions, tile experts, h, y) is one cuda::scratch call;
// a batch whose scratch would pass ctx.scratch_budget (256 MiB) runs in chunks of tokens, which
// changes nothing per row.
// Expert ids live in device memory: one outside 0..n_experts-1 is left out of the sum (the CPU op
// refuses it from host data), never used to index.
#include <algorithm>
#include <climits>
#include <cstdint>

#include "common/gpu-compat.h"
#include "gemm.h"
#include "moe.h"
#include "ops.h"

namespace xlam::cuda {

namespace {

size_t align256(size_t b) { return (b + 255) & ~size_t(255); }

struct Layout {
  int64_t max_tiles = 0, max_rows = 0;
  size_t sorted = 0, pos = 0, tiles = 0, h = 0, y = 0, total = 0;  // byte offsets
};

Layout layout(int64_t n_tokens, int64_t top_k, int n_experts, int tile_rows, int64_t n_ff, int64_t n_embd) {
  Layout l;
  l.max_tiles = moe_max_tiles(n_tokens * top_k, n_experts, tile_rows);
  l.max_rows = l.max_tiles * tile_rows;
  size_t off = 0;
  l.sorted = off;
  off += align256(static_cast<size_t>(l.max_rows) * 4);
  l.pos = off;
  off += align256(static_cast<size_t>(n_tokens * top_k) * 4);
  l.tiles = off;
  off += align256(static_cast<size_t>(l.max_tiles) * 4);
  l.h = off;
  off += align256(static_cast<size_t>(l.max_rows * n_ff) * 4);
  l.y = off;
  off += align256(static_cast<size_t>(l.max_rows * n_embd) * 4);
  l.total = off;
  return l;
}

}  // namespace

Status moe_experts(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_embd]
                   const Tensor& x,                         // f32 [n_tokens, n_embd]
                   const Tensor& expert_ids,                // i32 [n_tokens, k]
                   const Tensor& expert_weights,            // f32 [n_tokens, k]
                   const ExpertWeights* experts,            // [n_experts]: w1, w3 [n_ff, n_embd], w2 [n_embd, n_ff]
                   int32_t n_experts) {
  const char* op = "moe_experts";
  XLAM_TRY(check_moe_experts(out, x, expert_ids, expert_weights));
  const int64_t n = x.shape[0], d = x.shape[1], k = expert_ids.shape[1];
  XLAM_TRY(expect(n_experts >= 1 && n_experts <= kMaxExperts, op, "n_experts must be in 1..64"));
  XLAM_TRY(expect(k >= 1 && k <= kMaxExperts, op, "k must be in 1..64"));
  XLAM_TRY(expect(experts != nullptr, op, "experts is null"));
  const DType wt = experts[0].w1.dtype;
  for (int32_t e = 0; e < n_experts; ++e) {
    const ExpertWeights& ew = experts[e];
    XLAM_TRY(check_moe_expert(ew, d));
    XLAM_TRY(expect(ew.w1.shape == experts[0].w1.shape, op,
                    "expert weights must be w1/w3 [n_ff, n_embd], w2 [n_embd, n_ff]"));
    XLAM_TRY(expect(ew.w1.dtype == wt && ew.w3.dtype == wt && ew.w2.dtype == wt, op,
                    "every expert weight must have the same dtype"));
  }
  const int64_t ff = experts[0].w1.shape[0];
  XLAM_TRY(expect(n <= INT_MAX / k && d <= INT_MAX && ff <= INT_MAX, op, "dimensions must be below 2^31"));
  if (n == 0 || d == 0) return Status::Ok();

  const bool mma = ctx.cc >= 80 && wt != DType::kF32;
  // Large tiles once experts average a large tile's rows; both give the same results per row.
  const GemmSize size = n * k >= static_cast<int64_t>(n_experts) * 64 ? GemmSize::kLarge : GemmSize::kSmall;
  const int tile_rows = mma ? gemm_mma_tile_rows(size) : gemm_simt_tile_rows(size);
  // Tokens per chunk: the scratch budget, and at most 65,535 tiles of rows per launch.
  int64_t chunk = std::min<int64_t>(n, (int64_t{65535 - kMaxExperts} * tile_rows) / k);
  while (chunk > 1 && layout(chunk, k, n_experts, tile_rows, ff, d).total > ctx.scratch_budget) chunk = (chunk + 1) / 2;
  const Layout l = layout(chunk, k, n_experts, tile_rows, ff, d);
  void* base = nullptr;
  XLAM_TRY(scratch(ctx, l.total, &base));
  char* s = static_cast<char*>(base);
  int32_t* sorted = reinterpret_cast<int32_t*>(s + l.sorted);  // i32 [max_rows]
  int32_t* pos = reinterpret_cast<int32_t*>(s + l.pos);        // i32 [chunk * k]
  int32_t* tiles = reinterpret_cast<int32_t*>(s + l.tiles);    // i32 [max_tiles]
  float* h = reinterpret_cast<float*>(s + l.h);                // f32 [max_rows, n_ff]
  float* y = reinterpret_cast<float*>(s + l.y);                // f32 [max_rows, n_embd]

  GemmArgs up;
  up.mode = kGemmGateUp;
  up.wdtype = dtype_code(wt);
  up.n = static_cast<int>(ff);
  up.k = static_cast<int>(d);
  up.out = h;
  up.sorted = sorted;
  up.tile_expert = tiles;
  up.top_k = static_cast<int>(k);
  for (int32_t e = 0; e < n_experts; ++e) {
    up.w1[e] = experts[e].w1.data;
    up.w3[e] = experts[e].w3.data;
    up.w2[e] = experts[e].w2.data;
  }
  GemmArgs down = up;
  down.mode = kGemmDown;
  down.n = static_cast<int>(d);
  down.k = static_cast<int>(ff);
  down.a = h;
  down.out = y;

  const int32_t* ids = static_cast<const int32_t*>(expert_ids.data);
  const float* wts = static_cast<const float*>(expert_weights.data);
  const float* xs = static_cast<const float*>(x.data);
  float* os = static_cast<float*>(out.data);
  for (int64_t t0 = 0; t0 < n; t0 += chunk) {
    const int64_t nc = std::min(chunk, n - t0);
    const int max_tiles = static_cast<int>(moe_max_tiles(nc * k, n_experts, tile_rows));
    cudaError_t err = moe_sort(sorted, pos, tiles, ids + t0 * k, static_cast<int>(nc * k), n_experts, tile_rows,
                               max_tiles, ctx.stream);
    up.a = xs + t0 * d;
    if (err == cudaSuccess)
      err = mma ? gemm_mma(up, size, max_tiles, ctx.stream) : gemm_simt(up, size, max_tiles, ctx.stream);
    if (err == cudaSuccess)
      err = mma ? gemm_mma(down, size, max_tiles, ctx.stream) : gemm_simt(down, size, max_tiles, ctx.stream);
    if (err == cudaSuccess)
      err = moe_combine(os + t0 * d, y, pos, ids + t0 * k, wts + t0 * k, static_cast<int>(nc), static_cast<int>(k),
                        n_experts, d, ctx.stream);
    if (err != cudaSuccess) return launch_status(err, op);
  }
  return Status::Ok();
}

}  // namespace xlam::cuda
