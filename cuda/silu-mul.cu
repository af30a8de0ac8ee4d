// silu_mul: out = silu(gate) * up = gate / (1 + exp(-gate)) * up, elementwise in f32 (expf, IEEE
// division, each step rounded; the CPU reference evaluates it in f64: a few ulps apart).
#include <cstdint>

#include "common/convert.cuh"
#include "common/gpu-compat.h"
#include "ops.h"

namespace xlam::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) silu_mul_kernel(float* out,         // f32 [numel]
                                                            const float* gate,  // f32 [numel]
                                                            const float* up,    // f32 [numel]
                                                            int64_t numel) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < numel; i += stride)
    out[i] = gpu::silu_mul(gate[i], up[i]);
}

}  // namespace

Status silu_mul(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_ff]
                const Tensor& gate,                      // f32 [n_tokens, n_ff]
                const Tensor& up) {                      // f32 [n_tokens, n_ff]
  const char* op = "silu_mul";
  XLAM_TRY(check_silu_mul(out, gate, up));
  const int64_t numel = out.numel();
  if (numel == 0) return Status::Ok();
  const int64_t blocks = (numel + kThreads - 1) / kThreads;
  const int64_t cap = static_cast<int64_t>(ctx.n_sms > 0 ? ctx.n_sms : 1) * 32;  // grid-stride beyond
  const unsigned grid = static_cast<unsigned>(blocks < cap ? blocks : cap);
  return launch_status(gpu::launch(silu_mul_kernel, dim3(grid), dim3(kThreads), 0, ctx.stream,
                                   static_cast<float*>(out.data), static_cast<const float*>(gate.data),
                                   static_cast<const float*>(up.data), numel),
                       op);
}

}  // namespace xlam::cuda
