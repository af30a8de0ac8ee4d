// Host launchers of the attention kernels (attention-decode.cu, attention-prefill.cu,
// attention-merge.cu); attention.cu checks the arguments and picks one.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "attention-tile.cuh"
#include "ops.h"

namespace xlam::cuda::attn {

// Device pointers of one attention call.
struct Args {
  float* out;                  // f32 [n_tokens, n_heads, head_dim]
  const float* q;              // f32 [n_tokens, n_heads, head_dim]
  const float* k_cache;        // f32 [n_blocks, block_size, n_kv_heads, head_dim]
  const float* v_cache;        // f32 [n_blocks, block_size, n_kv_heads, head_dim]
  const int32_t* block_tables; // i32 [n_seqs, max_blocks]
  const int32_t* token_seq;    // i32 [n_tokens]
  const int32_t* positions;    // i32 [n_tokens]
  Geometry g;
};

// Padded head dimension the kernels are instantiated for (0: head_dim above kMaxHeadDim).
inline int padded_head_dim(int head_dim) {
  return head_dim <= 16 ? 16 : head_dim <= 32 ? 32 : head_dim <= 64 ? 64 : head_dim <= kMaxHeadDim ? 128 : 0;
}

// One block per (token, kv head, 16-head slice of its group, partition): rows whose key range
// spans one partition get their output; the others leave a partial in part_o / part_ml for
// launch_merge. Tensor cores when tc (cc >= 80), else the SIMT twin.
cudaError_t launch_decode(const Context& ctx, const Args& a, bool tc,
                          float* part_o,    // f32 [n_tokens, n_heads, n_parts, head_dim]
                          float* part_ml);  // f32 [n_tokens, n_heads, n_parts, 2]: (max, sum)

// Folds the partials of every row whose key range spans several partitions into out.
cudaError_t launch_merge(const Context& ctx, const Args& a,
                         const float* part_o,    // f32 [n_tokens, n_heads, n_parts, head_dim]
                         const float* part_ml);  // f32 [n_tokens, n_heads, n_parts, 2]

// One block per 64 (32 on SIMT) rows of tokens x query heads of one kv head; a block whose rows
// span several sequences runs one pass per sequence. Partitions are folded in the block.
cudaError_t launch_prefill(const Context& ctx, const Args& a, bool tc);

}  // namespace xlam::cuda::attn
