// GEMV for decode: out[r, c] = x[r] . w[c] (+ bias[c]) for 1..8 rows of x, one warp per output
// column c (the logits' 151,936 columns: 151,936 warps streaming their weight row once). Lanes
// take 8 consecutive k at a time (one 16-byte load of f16/bf16 weights, two of f32) and reduce
// with a butterfly at the end. The order of that reduction differs from the GEMM kernels', so
// matmul uses it only with ctx.batch_invariant off (gemm.h).
#include <cstdint>

#include "common/convert.cuh"
#include "common/gpu-compat.h"
#include "gemm.h"

namespace xlam::cuda {

namespace {

constexpr int kWarps = 8;  // output columns per block

// 8 consecutive weights from `p` (16-byte aligned for VEC loads) as f32.
template <typename WT>
__device__ __forceinline__ void load8(const WT* p, float (&w)[8]);
template <>
__device__ __forceinline__ void load8<float>(const float* p, float (&w)[8]) {
  const float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
  w[0] = a.x, w[1] = a.y, w[2] = a.z, w[3] = a.w, w[4] = b.x, w[5] = b.y, w[6] = b.z, w[7] = b.w;
}
template <typename WT>
__device__ __forceinline__ void load8(const WT* p, float (&w)[8]) {
  const uint4 v = *reinterpret_cast<const uint4*>(p);
  const uint32_t u[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    w[2 * i] = gpu::to_f32(WT{static_cast<uint16_t>(u[i] & 0xffffu)});
    w[2 * i + 1] = gpu::to_f32(WT{static_cast<uint16_t>(u[i] >> 16)});
  }
}

// NR: rows of x handled (args.m <= NR). VEC: k % 8 == 0 and 16-byte aligned x and w.
template <typename WT, int NR, bool VEC>
__global__ void __launch_bounds__(kWarps * 32) gemv_kernel(const GemmArgs args) {
  const int lane = threadIdx.x & 31;
  const int col = blockIdx.x * kWarps + (threadIdx.x >> 5);
  if (col >= args.n) return;  // the whole warp leaves together
  const int K = args.k, M = args.m;
  const WT* w = static_cast<const WT*>(args.w) + static_cast<int64_t>(col) * K;  // w [K]: row `col`
  float acc[NR];
#pragma unroll
  for (int r = 0; r < NR; ++r) acc[r] = 0.f;
  if (VEC) {
    for (int k = lane * 8; k < K; k += 32 * 8) {
      float wv[8];
      load8<WT>(w + k, wv);
#pragma unroll
      for (int r = 0; r < NR; ++r) {
        if (r >= M) break;
        const float4* xr = reinterpret_cast<const float4*>(args.a + static_cast<int64_t>(r) * K + k);
        const float4 x0 = xr[0], x1 = xr[1];
        float s = acc[r];
        s = fmaf(x0.x, wv[0], s);
        s = fmaf(x0.y, wv[1], s);
        s = fmaf(x0.z, wv[2], s);
        s = fmaf(x0.w, wv[3], s);
        s = fmaf(x1.x, wv[4], s);
        s = fmaf(x1.y, wv[5], s);
        s = fmaf(x1.z, wv[6], s);
        s = fmaf(x1.w, wv[7], s);
        acc[r] = s;
      }
    }
  } else {
    for (int k = lane; k < K; k += 32) {
      const float wk = gpu::to_f32(w[k]);
#pragma unroll
      for (int r = 0; r < NR; ++r) {
        if (r >= M) break;
        acc[r] = fmaf(args.a[static_cast<int64_t>(r) * K + k], wk, acc[r]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < NR; ++r)
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) acc[r] += __shfl_xor_sync(0xffffffffu, acc[r], off);
  if (lane == 0) {
    const float b = args.bias ? gpu::load_weight(args.bias, args.bias_dtype, col) : 0.f;
#pragma unroll
    for (int r = 0; r < NR; ++r)
      if (r < M) args.out[static_cast<int64_t>(r) * args.n + col] = args.bias ? acc[r] + b : acc[r];
  }
}

template <typename WT, int NR>
cudaError_t launch_rows(const GemmArgs& args, bool vec, cudaStream_t stream) {
  const dim3 grid((args.n + kWarps - 1) / kWarps), block(kWarps * 32);
  if (vec) return gpu::launch(gemv_kernel<WT, NR, true>, grid, block, 0, stream, args);
  return gpu::launch(gemv_kernel<WT, NR, false>, grid, block, 0, stream, args);
}

template <typename WT>
cudaError_t launch_dtype(const GemmArgs& args, bool vec, cudaStream_t stream) {
  if (args.m <= 1) return launch_rows<WT, 1>(args, vec, stream);
  if (args.m <= 2) return launch_rows<WT, 2>(args, vec, stream);
  if (args.m <= 4) return launch_rows<WT, 4>(args, vec, stream);
  return launch_rows<WT, 8>(args, vec, stream);
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

}  // namespace

cudaError_t gemv(const GemmArgs& args, cudaStream_t stream) {
  if (args.mode != kGemmPlain || args.m > kGemvMaxRows) return cudaErrorInvalidValue;
  if (args.m <= 0 || args.n <= 0) return cudaSuccess;
  const bool vec = args.k % 8 == 0 && aligned16(args.a) && aligned16(args.w);
  switch (args.wdtype) {
    case 0: return launch_dtype<float>(args, vec, stream);
    case 1: return launch_dtype<gpu::F16>(args, vec, stream);
    case 2: return launch_dtype<gpu::BF16>(args, vec, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace xlam::cuda
