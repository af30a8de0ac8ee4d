// The GEMM kernels behind matmul and moe_experts (one kernel family, three modes), and their host
// launchers. Not an op: matmul.cu and moe-experts.cu check arguments and call these.
//
//   kPlain   out[r, c] = sum_k a[r, k] * w[c, k] (+ bias[c]); rows r < m.
//   kGateUp  grouped (MoE): row r of the sorted list is entry s = sorted[r] (token s / top_k) of
//            expert tile_expert[r / tile rows]; out[r, c] = silu(x[s/top_k] . w1_e[c]) * (x[s/top_k] . w3_e[c]).
//   kDown    grouped (MoE): out[r, c] = a[r] . w2_e[c] for the rows with sorted[r] >= 0.
//
// Per output element the reduction runs over k in ascending 16-wide steps (tensor-core kernel: for
// each step the hi, mid and lo bf16 terms of x, see common/convert.cuh) or ascending k one FMA at a
// time (SIMT kernel), whatever the tile shape and the element's row and column inside the tile: the
// small- and large-tile configurations give bitwise equal results, so a row's result never depends
// on the batch (ctx.batch_invariant). The GEMV (several tokens, one warp per output column, lanes
// over k) reduces in another order and is used only when batch invariance is off.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "../native/src/tensor.h"

namespace xlam::cuda {

constexpr int kMaxExperts = 64;  // expert weight pointers travel in the kernel parameters

enum GemmMode : int { kGemmPlain = 0, kGemmGateUp = 1, kGemmDown = 2 };

struct GemmArgs {
  int mode = kGemmPlain;
  int wdtype = 0;     // weights: 0 f32, 1 f16, 2 bf16 (every w / expert weight of the call)
  int m = 0;          // kPlain: rows of a and out. MoE: unused (rows come from tile_expert)
  int n = 0;          // output columns (n_out; n_ff for kGateUp; n_embd for kDown)
  int k = 0;          // inner dimension
  const float* a = nullptr;  // f32 [m, k] (kPlain), [n_tokens, k] x (kGateUp), [max_rows, k] h (kDown)
  float* out = nullptr;      // f32 [m, n] (kPlain), [max_rows, n] (MoE)
  const void* w = nullptr;   // kPlain: w [n, k]
  const void* bias = nullptr;  // kPlain: w [n] or nullptr
  int bias_dtype = 0;          // 0 f32, 1 f16, 2 bf16
  // MoE only.
  const int32_t* sorted = nullptr;       // i32 [max_rows]: entry t * top_k + j, or -1 (padding)
  const int32_t* tile_expert = nullptr;  // i32 [max_tiles]: expert of each tile of rows, -1 unused
  int top_k = 1;
  const void* w1[kMaxExperts] = {};  // w [n_ff, n_embd] per expert (kGateUp)
  const void* w3[kMaxExperts] = {};  // w [n_ff, n_embd] per expert (kGateUp)
  const void* w2[kMaxExperts] = {};  // w [n_embd, n_ff] per expert (kDown)
};

enum class GemmSize { kSmall, kLarge };

// Rows per tile of each kernel configuration (MoE pads every expert's rows to it).
int gemm_mma_tile_rows(GemmSize size);
int gemm_simt_tile_rows(GemmSize size);

// Tensor-core kernel (mma.sync m16n8k16, sm_80+): f16 or bf16 weights only. `row_tiles` blocks
// along the rows (kPlain: ceil(m / tile rows); MoE: the number of tiles of the sorted list).
cudaError_t gemm_mma(const GemmArgs& args, GemmSize size, int row_tiles, cudaStream_t stream);
// SIMT kernel (f32 FMA): any weight dtype, any architecture.
cudaError_t gemm_simt(const GemmArgs& args, GemmSize size, int row_tiles, cudaStream_t stream);
// GEMV for 1..8 rows (kPlain only): one warp per output column.
constexpr int kGemvMaxRows = 8;
cudaError_t gemv(const GemmArgs& args, cudaStream_t stream);

inline int dtype_code(DType t) { return t == DType::kF16 ? 1 : t == DType::kBF16 ? 2 : 0; }

}  // namespace xlam::cuda
