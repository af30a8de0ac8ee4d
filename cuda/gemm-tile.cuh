// What a block of the GEMM kernels (matmul-gemm.cu, matmul-simt.cu) reads, in the three modes of
// gemm.h: the weights of its columns and the x row behind each row of its tile.
#pragma once
#include <cstdint>

#include "common/gpu-compat.h"
#include "gemm.h"

namespace xlam::cuda {

// The weights of one block: its first output column and, per block column, the weight row.
template <typename WT>
struct GemmBlockWeights {
  const WT* first = nullptr;   // w [.., K]: rows of the first half of the block's columns
  const WT* second = nullptr;  // w [.., K]: rows of the second half (kGateUp: w3; else = first)
  int n0 = 0;                  // first output column of the block

  // The weight row block column c (0..BN) stages: w [K], or nullptr past n (staged as zeros).
  // kGateUp: columns c < BN/2 are gate rows (w1), the rest up rows (w3) of the same outputs.
  template <int MODE, int BN>
  __device__ __forceinline__ const WT* row(int c, int n, int64_t k) const {
    const bool up = MODE == kGemmGateUp && c >= BN / 2;
    const int col = n0 + (up ? c - BN / 2 : c);
    return col < n ? (up ? second : first) + static_cast<int64_t>(col) * k : nullptr;
  }
};

// The weights block (blockIdx.x, row tile `tile`) multiplies with (BN: the block's columns;
// kGateUp: BN/2 outputs). Returns false for a MoE tile past the used ones (tile_expert -1): the
// whole block leaves.
template <int MODE, int BN, typename WT>
__device__ __forceinline__ bool gemm_block_weights(const GemmArgs& args, int tile, GemmBlockWeights<WT>* w) {
  if (MODE == kGemmPlain) {
    w->n0 = blockIdx.x * BN;
    w->first = w->second = static_cast<const WT*>(args.w);
    return true;
  }
  const int expert = args.tile_expert[tile];
  if (expert < 0 || expert >= kMaxExperts) return false;
  if (MODE == kGemmGateUp) {
    w->n0 = blockIdx.x * (BN / 2);
    w->first = static_cast<const WT*>(args.w1[expert]);
    w->second = static_cast<const WT*>(args.w3[expert]);
  } else {
    w->n0 = blockIdx.x * BN;
    w->first = w->second = static_cast<const WT*>(args.w2[expert]);
  }
  return true;
}

// The x row that row r (0..BM) of row tile `tile` reads: f32 [k], or nullptr for a row that is
// padding (kPlain: past m; MoE: sorted entry -1), which the kernels stage as zeros.
template <int MODE, int BM>
__device__ __forceinline__ const float* gemm_a_row(const GemmArgs& args, int tile, int r) {
  const int64_t K = args.k;
  if (MODE == kGemmPlain) {
    const int row = tile * BM + r;
    return row < args.m ? args.a + static_cast<int64_t>(row) * K : nullptr;
  }
  const int s = args.sorted[tile * BM + r];
  if (s < 0) return nullptr;
  const int64_t src = MODE == kGemmGateUp ? s / args.top_k : static_cast<int64_t>(tile) * BM + r;
  return args.a + src * K;
}

}  // namespace xlam::cuda
