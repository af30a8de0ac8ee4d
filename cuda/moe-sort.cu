// MoE routing bookkeeping on the device (moe.h): the stable counting sort of entries by expert and
// the weighted combine.
//
// Sort, one block of 256 threads: (1) count entries per expert with shared-memory integer atomics
// (the counts do not depend on their order); (2) one thread turns counts into tile-padded offsets;
// (3) every tile gets its expert, every row -1; (4) the entries are placed 256 at a time in entry
// order: within a warp __match_any_sync groups the lanes with the same expert and a lane's rank is
// the number of lower lanes in its group; warps' group sizes go through shared memory, so an entry's
// row is cursor[e] + (entries of e in lower warps of the chunk) + rank. Stable and deterministic.
#include <cstdint>

#include "common/convert.cuh"
#include "common/gpu-compat.h"
#include "gemm.h"
#include "moe.h"

namespace xlam::cuda {

namespace {

constexpr int kSortThreads = 256, kSortWarps = kSortThreads / 32;

__global__ void __launch_bounds__(kSortThreads) moe_sort_kernel(int32_t* sorted,       // i32 [max_tiles * tile_rows]
                                                                int32_t* pos,          // i32 [n_entries]
                                                                int32_t* tile_expert,  // i32 [max_tiles]
                                                                const int32_t* ids,    // i32 [n_entries]
                                                                int n_entries, int n_experts, int tile_rows,
                                                                int max_tiles) {
  __shared__ int s_count[kMaxExperts];              // entries per expert
  __shared__ int s_cursor[kMaxExperts];             // next free row of each expert
  __shared__ int s_tile_start[kMaxExperts + 1];     // first tile of each expert
  __shared__ int s_warp[kSortWarps][kMaxExperts];   // entries per (warp, expert) in the current chunk
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;

  for (int i = tid; i < kMaxExperts; i += kSortThreads) s_count[i] = 0;
  for (int i = tid; i < kSortWarps * kMaxExperts; i += kSortThreads) s_warp[i / kMaxExperts][i % kMaxExperts] = 0;
  __syncthreads();
  for (int i = tid; i < n_entries; i += kSortThreads) {
    const int e = ids[i];
    if (e >= 0 && e < n_experts) atomicAdd(&s_count[e], 1);
  }
  __syncthreads();
  if (tid == 0) {
    int tiles = 0;
    for (int e = 0; e < n_experts; ++e) {
      s_tile_start[e] = tiles;
      s_cursor[e] = tiles * tile_rows;
      tiles += (s_count[e] + tile_rows - 1) / tile_rows;
    }
    s_tile_start[n_experts] = tiles;
  }
  __syncthreads();
  for (int t = tid; t < max_tiles; t += kSortThreads) {
    int e = -1;
    if (t < s_tile_start[n_experts])
      for (int f = 0; f < n_experts; ++f)
        if (t >= s_tile_start[f] && t < s_tile_start[f + 1]) e = f;
    tile_expert[t] = e;
  }
  const int64_t rows = static_cast<int64_t>(max_tiles) * tile_rows;
  for (int64_t r = tid; r < rows; r += kSortThreads) sorted[r] = -1;
  __syncthreads();

  for (int base = 0; base < n_entries; base += kSortThreads) {
    const int i = base + tid;
    int e = i < n_entries ? ids[i] : -1;
    const bool valid = e >= 0 && e < n_experts;
    if (!valid) e = -1;
    const unsigned group = __match_any_sync(0xffffffffu, e);
    const int rank = __popc(group & ((1u << lane) - 1u));
    if (valid && rank == 0) s_warp[warp][e] = __popc(group);
    __syncthreads();
    if (valid) {
      int p = s_cursor[e] + rank;
      for (int w = 0; w < warp; ++w) p += s_warp[w][e];
      sorted[p] = i;
      pos[i] = p;
    } else if (i < n_entries) {
      pos[i] = -1;
    }
    __syncthreads();
    if (tid < n_experts) {
      int c = 0;
      for (int w = 0; w < kSortWarps; ++w) {
        c += s_warp[w][tid];
        s_warp[w][tid] = 0;
      }
      s_cursor[tid] += c;
    }
    __syncthreads();
  }
}

constexpr int kCombineThreads = 256;

__global__ void __launch_bounds__(kCombineThreads) moe_combine_kernel(float* out,            // f32 [n_tokens, d]
                                                                      const float* y,        // f32 [max_rows, d]
                                                                      const int32_t* pos,    // i32 [n_tokens * top_k]
                                                                      const int32_t* ids,    // i32 [n_tokens, top_k]
                                                                      const float* weights,  // f32 [n_tokens, top_k]
                                                                      int top_k, int n_experts, int64_t d) {
  __shared__ int s_row[kMaxExperts];    // rows of y to add, in order
  __shared__ float s_w[kMaxExperts];    // their weights
  __shared__ int s_n;
  const int64_t t = blockIdx.x;
  if (threadIdx.x == 0) {
    // The token's entries in ascending (expert, slot) order: the order of the CPU op's expert loop.
    int n = 0, prev = -1;
    for (int s = 0; s < top_k; ++s) {
      int best = -1, best_j = -1;
      for (int j = 0; j < top_k; ++j) {
        const int e = ids[t * top_k + j];
        if (e < 0 || e >= n_experts || pos[t * top_k + j] < 0) continue;
        const int key = e * top_k + j;
        if (key > prev && (best < 0 || key < best)) {
          best = key;
          best_j = j;
        }
      }
      if (best < 0) break;
      s_row[n] = pos[t * top_k + best_j];
      s_w[n] = weights[t * top_k + best_j];
      ++n;
      prev = best;
    }
    s_n = n;
  }
  __syncthreads();
  const int n = s_n;
  for (int64_t c = threadIdx.x; c < d; c += kCombineThreads) {
    float acc = 0.f;
    for (int s = 0; s < n; ++s) acc = gpu::add_rn(acc, gpu::mul_rn(y[static_cast<int64_t>(s_row[s]) * d + c], s_w[s]));
    out[t * d + c] = acc;
  }
}

}  // namespace

cudaError_t moe_sort(int32_t* sorted, int32_t* pos, int32_t* tile_expert, const int32_t* ids, int n_entries,
                     int n_experts, int tile_rows, int max_tiles, cudaStream_t stream) {
  if (n_experts > kMaxExperts || tile_rows <= 0) return cudaErrorInvalidValue;
  return gpu::launch(moe_sort_kernel, dim3(1), dim3(kSortThreads), 0, stream, sorted, pos, tile_expert, ids,
                     n_entries, n_experts, tile_rows, max_tiles);
}

cudaError_t moe_combine(float* out, const float* y, const int32_t* pos, const int32_t* ids, const float* weights,
                        int n_tokens, int top_k, int n_experts, int64_t d, cudaStream_t stream) {
  if (top_k > kMaxExperts || n_experts > kMaxExperts) return cudaErrorInvalidValue;
  if (n_tokens <= 0 || d <= 0) return cudaSuccess;
  return gpu::launch(moe_combine_kernel, dim3(static_cast<unsigned>(n_tokens)), dim3(kCombineThreads), 0, stream,
                     out, y, pos, ids, weights, top_k, n_experts, d);
}

}  // namespace xlam::cuda
