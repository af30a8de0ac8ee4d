// kv_write (new K/V rows into the paged cache by slot) and copy_blocks (whole cache blocks), as
// cpu/kv-write.cc. Index data stays on the device, so the host checks shapes only; the kernels skip
// what the CPU op refuses: a slot outside [0, n_blocks * block_size) (negative: padding, as on the
// CPU), a block pair with an index outside [0, n_blocks). Rows move as float4 when every row and
// pointer allows it.
#include <algorithm>
#include <cstdint>

#include "common/gpu-compat.h"
#include "ops.h"

namespace xlam::cuda {

namespace {

constexpr int kThreads = 128;
constexpr unsigned kMaxGridX = 1u << 20;  // tokens / pairs beyond this loop in the kernel

// Elements of T per row: `row_t`. Grid: x over tokens (strided), y over the row.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    kv_write_kernel(T* k_cache,                  // f32 [n_blocks, block_size, n_kv_heads, head_dim] as T
                    T* v_cache,                  // f32 [n_blocks, block_size, n_kv_heads, head_dim] as T
                    const T* k,                  // f32 [n_tokens, n_kv_heads, head_dim] as T
                    const T* v,                  // f32 [n_tokens, n_kv_heads, head_dim] as T
                    const int32_t* slot_mapping, // i32 [n_tokens]
                    int64_t n_tokens, int64_t row_t, int64_t n_slots) {
  for (int64_t t = blockIdx.x; t < n_tokens; t += gridDim.x) {
    const int64_t slot = slot_mapping[t];
    if (slot < 0 || slot >= n_slots) continue;  // padding, or out of range (the CPU op refuses it)
    for (int64_t i = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x; i < row_t;
         i += static_cast<int64_t>(gridDim.y) * blockDim.x) {
      k_cache[slot * row_t + i] = k[t * row_t + i];
      v_cache[slot * row_t + i] = v[t * row_t + i];
    }
  }
}

// Grid: x over pairs (strided), y over the block.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    copy_blocks_kernel(T* k_cache,                 // f32 [n_blocks, block_size, n_kv_heads, head_dim] as T
                       T* v_cache,                 // f32 [n_blocks, block_size, n_kv_heads, head_dim] as T
                       const int32_t* block_pairs, // i32 [n_pairs, 2]: (src, dst)
                       int64_t n_pairs, int64_t block_t, int64_t n_blocks) {
  for (int64_t p = blockIdx.x; p < n_pairs; p += gridDim.x) {
    const int64_t src = block_pairs[2 * p], dst = block_pairs[2 * p + 1];
    if (src < 0 || src >= n_blocks || dst < 0 || dst >= n_blocks || src == dst) continue;
    for (int64_t i = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x; i < block_t;
         i += static_cast<int64_t>(gridDim.y) * blockDim.x) {
      k_cache[dst * block_t + i] = k_cache[src * block_t + i];
      v_cache[dst * block_t + i] = v_cache[src * block_t + i];
    }
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Blocks along a row of `n` elements: enough for one element per thread, at most 64.
unsigned row_blocks(int64_t n) { return static_cast<unsigned>(std::min<int64_t>(64, (n + kThreads - 1) / kThreads)); }

}  // namespace

Status kv_write(const Context& ctx, const Tensor& k_cache,  // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                const Tensor& v_cache,                       // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                const Tensor& k,                             // f32 [n_tokens, n_kv_heads, head_dim]
                const Tensor& v,                             // f32 [n_tokens, n_kv_heads, head_dim]
                const Tensor& slot_mapping) {                // i32 [n_tokens]
  const char* op = "kv_write";
  XLAM_TRY(check_kv_write(k_cache, v_cache, k, v, slot_mapping));
  const int64_t n = k.shape[0], row = k.shape[1] * k.shape[2];
  const int64_t n_slots = k_cache.shape[0] * k_cache.shape[1];
  if (n == 0 || row == 0 || n_slots == 0) return Status::Ok();
  const dim3 grid(static_cast<unsigned>(std::min<int64_t>(n, kMaxGridX)), 1);
  const int32_t* slots = static_cast<const int32_t*>(slot_mapping.data);
  cudaError_t err;
  if (row % 4 == 0 && aligned16(k_cache.data) && aligned16(v_cache.data) && aligned16(k.data) && aligned16(v.data)) {
    const dim3 g(grid.x, row_blocks(row / 4));
    err = gpu::launch(kv_write_kernel<float4>, g, dim3(kThreads), 0, ctx.stream, static_cast<float4*>(k_cache.data),
                      static_cast<float4*>(v_cache.data), static_cast<const float4*>(k.data),
                      static_cast<const float4*>(v.data), slots, n, row / 4, n_slots);
  } else {
    const dim3 g(grid.x, row_blocks(row));
    err = gpu::launch(kv_write_kernel<float>, g, dim3(kThreads), 0, ctx.stream, static_cast<float*>(k_cache.data),
                      static_cast<float*>(v_cache.data), static_cast<const float*>(k.data),
                      static_cast<const float*>(v.data), slots, n, row, n_slots);
  }
  return launch_status(err, op);
}

Status copy_blocks(const Context& ctx, const Tensor& k_cache,  // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                   const Tensor& v_cache,                       // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                   const Tensor& block_pairs) {                 // i32 [n_pairs, 2]: (src, dst)
  const char* op = "copy_blocks";
  XLAM_TRY(check_copy_blocks(k_cache, v_cache, block_pairs));
  const int64_t n_blocks = k_cache.shape[0], n_pairs = block_pairs.shape[0];
  const int64_t block = k_cache.shape[1] * k_cache.shape[2] * k_cache.shape[3];
  if (n_pairs == 0 || block == 0) return Status::Ok();
  const unsigned gx = static_cast<unsigned>(std::min<int64_t>(n_pairs, kMaxGridX));
  const int32_t* pairs = static_cast<const int32_t*>(block_pairs.data);
  cudaError_t err;
  if (block % 4 == 0 && aligned16(k_cache.data) && aligned16(v_cache.data)) {
    err = gpu::launch(copy_blocks_kernel<float4>, dim3(gx, row_blocks(block / 4)), dim3(kThreads), 0, ctx.stream,
                      static_cast<float4*>(k_cache.data), static_cast<float4*>(v_cache.data), pairs, n_pairs,
                      block / 4, n_blocks);
  } else {
    err = gpu::launch(copy_blocks_kernel<float>, dim3(gx, row_blocks(block)), dim3(kThreads), 0, ctx.stream,
                      static_cast<float*>(k_cache.data), static_cast<float*>(v_cache.data), pairs, n_pairs, block,
                      n_blocks);
  }
  return launch_status(err, op);
}

}  // namespace xlam::cuda
