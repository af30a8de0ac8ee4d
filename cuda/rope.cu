// rope: rotary embedding, rotate-half form, in place; one block per token. As the CPU op (and HF):
// angle = f32(position) * inv_freq[j] rounded to f32, then cos and sin of that f32 angle evaluated
// in f64 and rounded to f32 (so large positions, whose angles are hundreds of thousands of
// radians, reduce exactly as on the CPU instead of through f32 sinf/cosf), times attn_factor. The
// table of the token's cos/sin is built once in shared memory and applied to every head, each
// product rounded (no FMA), as the CPU op computes x0*c - x1*s and x1*c + x0*s.
#include <climits>
#include <cmath>
#include <cstdint>

#include "common/convert.cuh"
#include "common/gpu-compat.h"
#include "ops.h"

namespace xlam::cuda {

namespace {

constexpr int kThreads = 128;

__global__ void __launch_bounds__(kThreads) rope_kernel(float* x,                  // f32 [n, n_heads, head_dim]
                                                        const int32_t* positions,  // i32 [n]
                                                        const float* inv_freq,     // f32 [head_dim / 2]
                                                        int n_heads, int half, float attn_factor) {
  CUDA_DYNAMIC_SHARED(float, s_cs);  // f32 [2][half]: cos, then sin
  const int64_t t = blockIdx.x;
  const float p = static_cast<float>(positions[t]);
  for (int j = threadIdx.x; j < half; j += kThreads) {
    const float angle = gpu::mul_rn(p, inv_freq[j]);
    s_cs[j] = gpu::mul_rn(static_cast<float>(cos(static_cast<double>(angle))), attn_factor);
    s_cs[half + j] = gpu::mul_rn(static_cast<float>(sin(static_cast<double>(angle))), attn_factor);
  }
  __syncthreads();
  const int hd = 2 * half;
  float* xt = x + t * n_heads * hd;
  for (int i = threadIdx.x; i < n_heads * half; i += kThreads) {
    const int h = i / half, j = i % half;
    float* row = xt + static_cast<int64_t>(h) * hd;
    const float c = s_cs[j], s = s_cs[half + j];
    const float x0 = row[j], x1 = row[j + half];
    row[j] = gpu::sub_rn(gpu::mul_rn(x0, c), gpu::mul_rn(x1, s));
    row[j + half] = gpu::add_rn(gpu::mul_rn(x1, c), gpu::mul_rn(x0, s));
  }
}

}  // namespace

Status rope(const Context& ctx, const Tensor& x,  // f32 [n_tokens, n_heads, head_dim], in place
            const Tensor& positions,              // i32 [n_tokens]
            const Tensor& inv_freq,               // f32 [head_dim / 2]
            float attn_factor) {
  const char* op = "rope";
  XLAM_TRY(check_rope(x, positions, inv_freq));
  const int64_t n = x.shape[0], n_heads = x.shape[1], hd = x.shape[2], half = hd / 2;
  XLAM_TRY(expect(n <= INT_MAX && n_heads * half <= INT_MAX, op, "too many tokens or heads"));
  XLAM_TRY(expect(half <= 4096, op, "head_dim must be at most 8192"));
  if (n == 0 || n_heads == 0 || half == 0) return Status::Ok();
  const size_t smem = 2 * static_cast<size_t>(half) * sizeof(float);  // <= 32 KiB
  return launch_status(gpu::launch(rope_kernel, dim3(static_cast<unsigned>(n)), dim3(kThreads), smem, ctx.stream,
                                   static_cast<float*>(x.data), static_cast<const int32_t*>(positions.data),
                                   static_cast<const float*>(inv_freq.data), static_cast<int>(n_heads),
                                   static_cast<int>(half), attn_factor),
                       op);
}

}  // namespace xlam::cuda
