// The MoE kernels besides the grouped GEMM (gemm.h): the counting sort of (token, slot) entries by
// expert and the weighted combine. Used by moe-experts.cu; not ops.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace xlam::cuda {

// Upper bound of the tiles the sorted list of n_entries entries over n_experts experts needs when
// each expert's rows are padded to tile_rows: sum_e ceil(c_e / tile_rows) <= ceil(n / tile_rows) + n_experts - 1.
inline int64_t moe_max_tiles(int64_t n_entries, int n_experts, int tile_rows) {
  return (n_entries + tile_rows - 1) / tile_rows + n_experts;
}

// Counting sort of the n_entries = n_tokens * top_k entries of `ids` (entry i = token i / top_k,
// slot i % top_k) by expert, stable (entries of one expert stay in entry order), each expert's run
// padded with -1 to a multiple of tile_rows. Entries whose id is outside 0..n_experts-1 are left
// out (pos = -1). One block.
cudaError_t moe_sort(int32_t* sorted,         // i32 [max_tiles * tile_rows]: entry or -1
                     int32_t* pos,            // i32 [n_entries]: row of each entry in sorted, or -1
                     int32_t* tile_expert,    // i32 [max_tiles]: expert of each tile, -1 past the used ones
                     const int32_t* ids,      // i32 [n_entries]
                     int n_entries, int n_experts, int tile_rows, int max_tiles, cudaStream_t stream);

// out[t] = sum over the token's valid entries in ascending (expert, slot) order of
// weights[t, j] * y[pos[t * top_k + j]] (each product and sum rounded, as the CPU op's loop over
// experts). One block per token; no atomics.
cudaError_t moe_combine(float* out,            // f32 [n_tokens, d]
                        const float* y,        // f32 [max_rows, d]
                        const int32_t* pos,    // i32 [n_tokens * top_k]
                        const int32_t* ids,    // i32 [n_tokens, top_k]
                        const float* weights,  // f32 [n_tokens, top_k]
                        int n_tokens, int top_k, int n_experts, int64_t d, cudaStream_t stream);

}  // namespace xlam::cuda
