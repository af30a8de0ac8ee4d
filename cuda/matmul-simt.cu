// SIMT GEMM (f32 FMA): the twin of matmul-gemm.cu for sm_75 (no bf16 tensor cores) and the kernel
// for f32 weights on every architecture, in the three modes of gemm.h.
//
// Per output element: acc = fmaf(x[k], w[k], acc) for k = 0, 1, ..., then + bias: one sequential
// f32 reduction in k order (k padded with zeros to a multiple of 16; both configurations pad alike),
// so the small and large tiles give bitwise equal results (batch invariance).
//
// Tiles: BM x BN outputs per block, k 16 at a time through shared memory (x and the weights,
// converted to f32, stored k-major), the next tile loaded into registers during the FMAs; each
// thread computes TM rows x TN columns, its columns half in the first, half in the second half of
// the block's columns (kGateUp: gate and up of the same output, combined in registers).
//   small: 8 x 64, 128 threads of 2 x 2 (decode and small batches)
//   large: 64 x 64, 256 threads of 4 x 4 (prefill)
#include <cstdint>

#include "common/convert.cuh"
#include "common/gpu-compat.h"
#include "gemm-tile.cuh"
#include "gemm.h"

namespace xlam::cuda {

namespace {

constexpr int kBK = 16;

template <int BM_, int BN_, int TM_, int TN_>
struct SimtCfg {
  static constexpr int BM = BM_, BN = BN_, TM = TM_, TN = TN_;
  static constexpr int TX = BN / TN, TY = BM / TM;
  static constexpr int kThreads = TX * TY;
  static constexpr int kAElems = BM * kBK / kThreads;  // x elements per thread per k tile
  static constexpr int kBElems = BN * kBK / kThreads;  // weights per thread per k tile
  static_assert(TN % 2 == 0 && kAElems * kThreads == BM * kBK && kBElems * kThreads == BN * kBK, "tile");
};
using SmallSimt = SimtCfg<8, 64, 2, 2>;
using LargeSimt = SimtCfg<64, 64, 4, 4>;

// Column of the block's tile that column j of thread column tx computes.
template <class C>
__device__ __forceinline__ int simt_col(int tx, int j) {
  constexpr int half = C::TN / 2;
  return j < half ? tx * half + j : C::BN / 2 + tx * half + (j - half);
}

// WT: the stored weight element (float, gpu::F16 or gpu::BF16).
template <class C, typename WT, int MODE>
__global__ void __launch_bounds__(C::kThreads) gemm_simt_kernel(const GemmArgs args) {
  __shared__ float s_a[kBK][C::BM + 4];  // f32 [k][row] of the k tile
  __shared__ float s_b[kBK][C::BN + 4];  // f32 [k][column] of the k tile (weights converted)

  const int tid = threadIdx.x, tx = tid % C::TX, ty = tid / C::TX;
  const int K = args.k, N = args.n;
  const int tile = blockIdx.y;

  GemmBlockWeights<WT> weights;
  if (!gemm_block_weights<MODE, C::BN>(args, tile, &weights)) return;  // an unused MoE tile

  const float* a_row[C::kAElems];  // f32 [K] of each staged x element's row, or nullptr (zeros)
  for (int i = 0; i < C::kAElems; ++i) a_row[i] = gemm_a_row<MODE, C::BM>(args, tile, (tid + i * C::kThreads) / kBK);
  const WT* b_row[C::kBElems];  // w [K] of each staged weight's row, or nullptr (zeros)
  for (int i = 0; i < C::kBElems; ++i)
    b_row[i] = weights.template row<MODE, C::BN>((tid + i * C::kThreads) / kBK, N, K);

  float ra[C::kAElems], rb[C::kBElems];
  auto load_global = [&](int k0) {
#pragma unroll
    for (int i = 0; i < C::kAElems; ++i) {
      const int kk = k0 + (tid + i * C::kThreads) % kBK;
      ra[i] = a_row[i] && kk < K ? a_row[i][kk] : 0.f;
    }
#pragma unroll
    for (int i = 0; i < C::kBElems; ++i) {
      const int kk = k0 + (tid + i * C::kThreads) % kBK;
      rb[i] = b_row[i] && kk < K ? gpu::to_f32(b_row[i][kk]) : 0.f;
    }
  };
  auto store_shared = [&]() {
#pragma unroll
    for (int i = 0; i < C::kAElems; ++i) {
      const int idx = tid + i * C::kThreads;
      s_a[idx % kBK][idx / kBK] = ra[i];
    }
#pragma unroll
    for (int i = 0; i < C::kBElems; ++i) {
      const int idx = tid + i * C::kThreads;
      s_b[idx % kBK][idx / kBK] = rb[i];
    }
  };

  float acc[C::TM][C::TN];
#pragma unroll
  for (int i = 0; i < C::TM; ++i)
#pragma unroll
    for (int j = 0; j < C::TN; ++j) acc[i][j] = 0.f;

  load_global(0);
  store_shared();
  __syncthreads();
  for (int k0 = 0; k0 < K; k0 += kBK) {
    const bool more = k0 + kBK < K;
    if (more) load_global(k0 + kBK);
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      float a[C::TM], b[C::TN];
#pragma unroll
      for (int i = 0; i < C::TM; ++i) a[i] = s_a[kk][ty * C::TM + i];
#pragma unroll
      for (int j = 0; j < C::TN; ++j) b[j] = s_b[kk][simt_col<C>(tx, j)];
#pragma unroll
      for (int i = 0; i < C::TM; ++i)
#pragma unroll
        for (int j = 0; j < C::TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
    if (more) {
      store_shared();
      __syncthreads();
    }
  }

#pragma unroll
  for (int i = 0; i < C::TM; ++i) {
    const int row = tile * C::BM + ty * C::TM + i;
    if (MODE == kGemmPlain) {
      if (row >= args.m) continue;
    } else if (args.sorted[row] < 0) {
      continue;
    }
    float* out_row = args.out + static_cast<int64_t>(row) * N;
    if (MODE == kGemmGateUp) {
#pragma unroll
      for (int j = 0; j < C::TN / 2; ++j) {
        const int col = weights.n0 + simt_col<C>(tx, j);
        if (col < N) out_row[col] = gpu::silu_mul(acc[i][j], acc[i][j + C::TN / 2]);
      }
    } else {
#pragma unroll
      for (int j = 0; j < C::TN; ++j) {
        const int col = weights.n0 + simt_col<C>(tx, j);
        if (col >= N) continue;
        float v = acc[i][j];
        if (MODE == kGemmPlain && args.bias) v += gpu::load_weight(args.bias, args.bias_dtype, col);
        out_row[col] = v;
      }
    }
  }
}

template <class C, typename WT>
cudaError_t launch_cfg(const GemmArgs& args, int row_tiles, cudaStream_t stream) {
  const int cols = args.mode == kGemmGateUp ? C::BN / 2 : C::BN;
  const dim3 grid((args.n + cols - 1) / cols, row_tiles), block(C::kThreads);
  switch (args.mode) {
    case kGemmPlain: return gpu::launch(gemm_simt_kernel<C, WT, kGemmPlain>, grid, block, 0, stream, args);
    case kGemmGateUp: return gpu::launch(gemm_simt_kernel<C, WT, kGemmGateUp>, grid, block, 0, stream, args);
    case kGemmDown: return gpu::launch(gemm_simt_kernel<C, WT, kGemmDown>, grid, block, 0, stream, args);
  }
  return cudaErrorInvalidValue;
}

template <class C>
cudaError_t launch_dtype(const GemmArgs& args, int row_tiles, cudaStream_t stream) {
  switch (args.wdtype) {
    case 0: return launch_cfg<C, float>(args, row_tiles, stream);
    case 1: return launch_cfg<C, gpu::F16>(args, row_tiles, stream);
    case 2: return launch_cfg<C, gpu::BF16>(args, row_tiles, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace

int gemm_simt_tile_rows(GemmSize size) { return size == GemmSize::kSmall ? SmallSimt::BM : LargeSimt::BM; }

cudaError_t gemm_simt(const GemmArgs& args, GemmSize size, int row_tiles, cudaStream_t stream) {
  if (row_tiles <= 0 || args.n <= 0) return cudaSuccess;
  return size == GemmSize::kSmall ? launch_dtype<SmallSimt>(args, row_tiles, stream)
                                  : launch_dtype<LargeSimt>(args, row_tiles, stream);
}

}  // namespace xlam::cuda
