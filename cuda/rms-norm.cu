// rms_norm and add_rms_norm (residual += delta; out = norm(residual) * weight): one block per row.
// The sum of squares is accumulated in f64 (each thread over a strided share of the row, then a
// fixed butterfly + shared-memory tree), and 1 / sqrt(mean + eps) is taken in f64 and rounded once,
// as the CPU reference does; out = w * (x * inv) in f32 with each product rounded (no FMA). A row's
// result depends on that row alone (fixed block size and reduction tree): batch-invariant.
#include <climits>
#include <cmath>
#include <cstdint>

#include "common/convert.cuh"
#include "common/gpu-compat.h"
#include "ops.h"

namespace xlam::cuda {

namespace {

constexpr int kThreads = 256;

// Sum of v over the block, the same tree every time; every thread gets the result.
__device__ __forceinline__ double block_sum(double v) {
  __shared__ double s_part[kThreads / 32];  // f64 [warps]
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) s_part[warp] = v;
  __syncthreads();
  double t = 0;
  for (int w = 0; w < kThreads / 32; ++w) t += s_part[w];
  return t;
}

// ADD: residual += delta first (x is the residual, updated in place). WT: float, gpu::F16, gpu::BF16.
template <typename WT, bool ADD>
__global__ void __launch_bounds__(kThreads) rms_norm_kernel(float* out,           // f32 [n, d]
                                                            float* x,             // f32 [n, d]; ADD: residual, in place
                                                            const float* delta,   // f32 [n, d] (ADD) or nullptr
                                                            const WT* weight,     // WT [d]
                                                            int64_t d, float eps) {
  const int64_t row = blockIdx.x;
  float* xr = x + row * d;
  double ss = 0;
  for (int64_t c = threadIdx.x; c < d; c += kThreads) {
    float v = xr[c];
    if (ADD) {
      v = gpu::add_rn(v, delta[row * d + c]);
      xr[c] = v;  // read back below by this same thread
    }
    ss += static_cast<double>(v) * v;
  }
  ss = block_sum(ss);
  const float inv = static_cast<float>(1.0 / sqrt(ss / static_cast<double>(d) + static_cast<double>(eps)));
  float* o = out + row * d;
  for (int64_t c = threadIdx.x; c < d; c += kThreads)
    o[c] = gpu::mul_rn(gpu::to_f32(weight[c]), gpu::mul_rn(xr[c], inv));
}

template <bool ADD>
Status launch_norm(const Context& ctx, const char* op, const Tensor& out, const Tensor& x, const float* delta,
                   const Tensor& weight, float eps) {
  const int64_t n = x.shape[0], d = x.shape[1];
  XLAM_TRY(expect(n <= INT_MAX, op, "too many rows"));
  if (n == 0 || d == 0) return Status::Ok();
  float* o = static_cast<float*>(out.data);
  float* xs = static_cast<float*>(x.data);
  const dim3 grid(static_cast<unsigned>(n)), block(kThreads);
  cudaError_t err = cudaErrorInvalidValue;
  switch (weight.dtype) {
    case DType::kF32:
      err = gpu::launch(rms_norm_kernel<float, ADD>, grid, block, 0, ctx.stream, o, xs, delta,
                        static_cast<const float*>(weight.data), d, eps);
      break;
    case DType::kF16:
      err = gpu::launch(rms_norm_kernel<gpu::F16, ADD>, grid, block, 0, ctx.stream, o, xs, delta,
                        static_cast<const gpu::F16*>(weight.data), d, eps);
      break;
    case DType::kBF16:
      err = gpu::launch(rms_norm_kernel<gpu::BF16, ADD>, grid, block, 0, ctx.stream, o, xs, delta,
                        static_cast<const gpu::BF16*>(weight.data), d, eps);
      break;
    case DType::kI32:
      break;
  }
  return launch_status(err, op);
}

}  // namespace

Status rms_norm(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_embd]
                const Tensor& x,                         // f32 [n_tokens, n_embd]
                const Tensor& weight,                    // w [n_embd]
                float eps) {
  XLAM_TRY(check_rms_norm(out, x, weight));
  return launch_norm<false>(ctx, "rms_norm", out, x, nullptr, weight, eps);
}

Status add_rms_norm(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_embd]
                    const Tensor& residual,                  // f32 [n_tokens, n_embd], updated in place
                    const Tensor& delta,                     // f32 [n_tokens, n_embd]
                    const Tensor& weight,                    // w [n_embd]
                    float eps) {
  const char* op = "add_rms_norm";
  XLAM_TRY(check_add_rms_norm(out, residual, delta, weight));
  return launch_norm<true>(ctx, op, out, residual, static_cast<const float*>(delta.data), weight, eps);
}

}  // namespace xlam::cuda
