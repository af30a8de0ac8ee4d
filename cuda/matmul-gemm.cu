// Tensor-core GEMM (mma.sync m16n8k16, bf16 inputs, f32 accumulation; sm_80+) for f16 and bf16
// weights, in the three modes of gemm.h (plain matmul, MoE gate/up with fused silu-mul, MoE down).
//
// Exactness: activations are f32, so each x is split into hi + mid + lo bf16 terms whose sum is x
// (common/convert.cuh); bf16 weights are exact in bf16, so per 16-wide k step an element gets
//   acc = mma(hi, W, acc); acc = mma(mid, W, acc); acc = mma(lo, W, acc)
// and every product is exact: the result is f32-accurate (as the CPU's AMX kernels). f16 weights
// are split exactly into two bf16 terms Wh + Wl (convert.cuh); the step is then
//   hi*Wh, hi*Wl, mid*Wh, mid*Wl, lo*Wh
// (lo*Wl, below 2^-24 of x*w, is dropped): no f16 range limit applies to the activations, which
// an f16 mma on f16-split activations would impose (|x| > 65504 overflows; tiny ones go subnormal).
//
// Tiles: a block computes BM x BN outputs with WARPS_M x WARPS_N warps; k advances 32 at a time
// through shared memory (x split into three bf16 tiles as it is staged; weights staged raw), the
// next k tile loaded into registers while the current one is multiplied. Fragments are read from
// shared memory with a row stride of 20 words, conflict-free for the m16n8k16 layouts.
//   small: 16 x 64, 4 warps of 16 x 16 (decode and small batches; many blocks over n)
//   large: 64 x 128, 8 warps of 32 x 32 (prefill)
// A warp's n8 tiles are taken half from the first and half from the second half of the block's
// columns, so in kGateUp (first half: w1 rows, second half: w3 rows of the same n_ff columns) a
// thread holds gate and up of the same outputs and applies silu-mul in registers.
#include <cstdint>
#include <type_traits>

#include "common/convert.cuh"
#include "common/gpu-compat.h"
#include "common/ptx.cuh"
#include "gemm-tile.cuh"
#include "gemm.h"

namespace xlam::cuda {

namespace {

constexpr int kBK = 32;        // k per shared-memory tile
constexpr int kRowWords = 20;  // u32 words per staged row: 16 (32 bf16) + 4 padding

// acc = a * b + acc (a copy of acc as the addend: the wrapper's d and c never alias).
__device__ __forceinline__ void mma_acc(float (&acc)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  const float c[4] = {acc[0], acc[1], acc[2], acc[3]};
  gpu::mma_m16n8k16_bf16(acc, a, b, c);
}

template <int BM_, int BN_, int WARPS_M_, int WARPS_N_>
struct MmaCfg {
  static constexpr int BM = BM_, BN = BN_, WARPS_M = WARPS_M_, WARPS_N = WARPS_N_;
  static constexpr int kThreads = 32 * WARPS_M * WARPS_N;
  static constexpr int WM = BM / WARPS_M, WN = BN / WARPS_N;
  static constexpr int MT = WM / 16, NT = WN / 8;
  static constexpr int kAVecs = BM * kBK / 4 / kThreads;  // float4 of x per thread per k tile
  static constexpr int kBVecs = BN * kBK / 8 / kThreads;  // 8 weights (16 bytes) per thread per k tile
  static_assert(WM % 16 == 0 && WN % 16 == 0, "warp tile: m16 multiples, an even number of n8 tiles");
  static_assert(kAVecs >= 1 && kAVecs * kThreads * 4 == BM * kBK, "x tile must split evenly");
  static_assert(kBVecs >= 1 && kBVecs * kThreads * 8 == BN * kBK, "w tile must split evenly");
};
using SmallMma = MmaCfg<16, 64, 1, 4>;
using LargeMma = MmaCfg<64, 128, 2, 4>;

// Column of the block's tile (0..BN) that n8 tile `nt` of warp column `wn` starts at: the first
// NT/2 tiles from the first half of the block's columns, the others from the second half.
template <class C>
__device__ __forceinline__ int tile_col(int wn, int nt) {
  constexpr int half = C::NT / 2;
  return nt < half ? wn * (C::WN / 2) + nt * 8 : C::BN / 2 + wn * (C::WN / 2) + (nt - half) * 8;
}

// One block: BM rows x BN columns of `args.out` (kGateUp: BN/2 columns of h).
// WT: the stored weight element (gpu::BF16 or gpu::F16). VEC: 16-byte loads (k % 8 == 0 and
// every base pointer 16-byte aligned), else element loads.
template <class C, typename WT, int MODE, bool VEC>
__global__ void __launch_bounds__(C::kThreads) gemm_mma_kernel(const GemmArgs args) {
  // x of the k tile as three bf16 terms, pairs of k per word: u32 [3][BM][kRowWords]
  __shared__ __align__(16) uint32_t s_a[3][C::BM][kRowWords];
  // weights of the k tile, raw 16-bit pairs: u32 [BN][kRowWords]
  __shared__ __align__(16) uint32_t s_b[C::BN][kRowWords];

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp / C::WARPS_N, wn = warp % C::WARPS_N;
  const int g = lane >> 2, q = lane & 3;
  const int K = args.k, N = args.n;
  const int tile = blockIdx.y;

  GemmBlockWeights<uint16_t> weights;
  if (!gemm_block_weights<MODE, C::BN>(args, tile, &weights)) return;  // an unused MoE tile

  // The x rows this thread stages (fixed over k) and the weight rows it stages.
  const float* a_row[C::kAVecs];  // f32 [K] or nullptr (a padding row: zeros)
  for (int i = 0; i < C::kAVecs; ++i) a_row[i] = gemm_a_row<MODE, C::BM>(args, tile, (tid + i * C::kThreads) / (kBK / 4));
  const uint16_t* b_row[C::kBVecs];  // w [K] or nullptr (a column past n: zeros)
  for (int i = 0; i < C::kBVecs; ++i)
    b_row[i] = weights.template row<MODE, C::BN>((tid + i * C::kThreads) / (kBK / 8), N, K);

  float4 ra[C::kAVecs];  // x of the next k tile
  uint4 rb[C::kBVecs];   // weights of the next k tile
  auto load_global = [&](int k0) {
    for (int i = 0; i < C::kAVecs; ++i) {
      const int kk = k0 + ((tid + i * C::kThreads) % (kBK / 4)) * 4;
      float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
      if (a_row[i]) {
        if (VEC) {
          if (kk < K) v = *reinterpret_cast<const float4*>(a_row[i] + kk);
        } else {
          if (kk + 0 < K) v.x = a_row[i][kk + 0];
          if (kk + 1 < K) v.y = a_row[i][kk + 1];
          if (kk + 2 < K) v.z = a_row[i][kk + 2];
          if (kk + 3 < K) v.w = a_row[i][kk + 3];
        }
      }
      ra[i] = v;
    }
    for (int i = 0; i < C::kBVecs; ++i) {
      const int kk = k0 + ((tid + i * C::kThreads) % (kBK / 8)) * 8;
      uint4 v = make_uint4(0u, 0u, 0u, 0u);
      if (b_row[i]) {
        if (VEC) {
          if (kk < K) v = *reinterpret_cast<const uint4*>(b_row[i] + kk);
        } else {
          uint16_t h[8];
          for (int j = 0; j < 8; ++j) h[j] = kk + j < K ? b_row[i][kk + j] : uint16_t(0);
          v = make_uint4(gpu::pack2(h[0], h[1]), gpu::pack2(h[2], h[3]), gpu::pack2(h[4], h[5]),
                         gpu::pack2(h[6], h[7]));
        }
      }
      rb[i] = v;
    }
  };
  auto store_shared = [&]() {
    for (int i = 0; i < C::kAVecs; ++i) {
      const int idx = tid + i * C::kThreads;
      const int r = idx / (kBK / 4), w = (idx % (kBK / 4)) * 2;
      uint16_t h[4], m[4], l[4];
      gpu::split3_bf16(ra[i].x, h[0], m[0], l[0]);
      gpu::split3_bf16(ra[i].y, h[1], m[1], l[1]);
      gpu::split3_bf16(ra[i].z, h[2], m[2], l[2]);
      gpu::split3_bf16(ra[i].w, h[3], m[3], l[3]);
      s_a[0][r][w] = gpu::pack2(h[0], h[1]);
      s_a[0][r][w + 1] = gpu::pack2(h[2], h[3]);
      s_a[1][r][w] = gpu::pack2(m[0], m[1]);
      s_a[1][r][w + 1] = gpu::pack2(m[2], m[3]);
      s_a[2][r][w] = gpu::pack2(l[0], l[1]);
      s_a[2][r][w + 1] = gpu::pack2(l[2], l[3]);
    }
    for (int i = 0; i < C::kBVecs; ++i) {
      const int idx = tid + i * C::kThreads;
      const int c = idx / (kBK / 8), w = (idx % (kBK / 8)) * 4;
      *reinterpret_cast<uint4*>(&s_b[c][w]) = rb[i];
    }
  };

  float acc[C::MT][C::NT][4];
  for (int mt = 0; mt < C::MT; ++mt)
    for (int nt = 0; nt < C::NT; ++nt)
      for (int j = 0; j < 4; ++j) acc[mt][nt][j] = 0.f;

  load_global(0);
  store_shared();
  __syncthreads();
  for (int k0 = 0; k0 < K; k0 += kBK) {
    const bool more = k0 + kBK < K;
    if (more) load_global(k0 + kBK);  // in flight while this tile is multiplied
#pragma unroll
    for (int ks = 0; ks < kBK / 16; ++ks) {
      const int kw = ks * 8;  // word offset of the 16-wide k step
      uint32_t a[3][C::MT][4];
#pragma unroll
      for (int p = 0; p < 3; ++p)
#pragma unroll
        for (int mt = 0; mt < C::MT; ++mt) {
          const int r = wm * C::WM + mt * 16 + g;
          a[p][mt][0] = s_a[p][r][kw + q];
          a[p][mt][1] = s_a[p][r + 8][kw + q];
          a[p][mt][2] = s_a[p][r][kw + q + 4];
          a[p][mt][3] = s_a[p][r + 8][kw + q + 4];
        }
#pragma unroll
      for (int nt = 0; nt < C::NT; ++nt) {
        const int c = tile_col<C>(wn, nt) + g;
        const uint32_t b0 = s_b[c][kw + q], b1 = s_b[c][kw + q + 4];
        if constexpr (std::is_same<WT, gpu::BF16>::value) {
          const uint32_t b[2] = {b0, b1};
#pragma unroll
          for (int mt = 0; mt < C::MT; ++mt) {
            mma_acc(acc[mt][nt], a[0][mt], b);
            mma_acc(acc[mt][nt], a[1][mt], b);
            mma_acc(acc[mt][nt], a[2][mt], b);
          }
        } else {
          uint16_t h0, l0, h1, l1, h2, l2, h3, l3;
          gpu::split2_f16_as_bf16(static_cast<uint16_t>(b0 & 0xffffu), h0, l0);
          gpu::split2_f16_as_bf16(static_cast<uint16_t>(b0 >> 16), h1, l1);
          gpu::split2_f16_as_bf16(static_cast<uint16_t>(b1 & 0xffffu), h2, l2);
          gpu::split2_f16_as_bf16(static_cast<uint16_t>(b1 >> 16), h3, l3);
          const uint32_t bh[2] = {gpu::pack2(h0, h1), gpu::pack2(h2, h3)};
          const uint32_t bl[2] = {gpu::pack2(l0, l1), gpu::pack2(l2, l3)};
#pragma unroll
          for (int mt = 0; mt < C::MT; ++mt) {
            mma_acc(acc[mt][nt], a[0][mt], bh);
            mma_acc(acc[mt][nt], a[0][mt], bl);
            mma_acc(acc[mt][nt], a[1][mt], bh);
            mma_acc(acc[mt][nt], a[1][mt], bl);
            mma_acc(acc[mt][nt], a[2][mt], bh);
          }
        }
      }
    }
    __syncthreads();  // everyone is done reading this tile
    if (more) {
      store_shared();
      __syncthreads();
    }
  }

  // Epilogue. Accumulator j of (mt, nt): row g (+8 for j >= 2), column 2q + (j & 1) of the n8 tile.
#pragma unroll
  for (int mt = 0; mt < C::MT; ++mt) {
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      const int r_local = wm * C::WM + mt * 16 + g + hr * 8;
      const int row = tile * C::BM + r_local;
      if (MODE == kGemmPlain) {
        if (row >= args.m) continue;
      } else if (args.sorted[row] < 0) {
        continue;  // padding row of the sorted list
      }
      float* out_row = args.out + static_cast<int64_t>(row) * N;
      if (MODE == kGemmGateUp) {
#pragma unroll
        for (int nt = 0; nt < C::NT / 2; ++nt)
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            const int col = weights.n0 + tile_col<C>(wn, nt) + 2 * q + j;
            if (col < N) out_row[col] = gpu::silu_mul(acc[mt][nt][hr * 2 + j], acc[mt][nt + C::NT / 2][hr * 2 + j]);
          }
      } else {
#pragma unroll
        for (int nt = 0; nt < C::NT; ++nt)
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            const int col = weights.n0 + tile_col<C>(wn, nt) + 2 * q + j;
            if (col >= N) continue;
            float v = acc[mt][nt][hr * 2 + j];
            if (MODE == kGemmPlain && args.bias) v += gpu::load_weight(args.bias, args.bias_dtype, col);
            out_row[col] = v;
          }
      }
    }
  }
}

template <class C, typename WT, int MODE>
cudaError_t launch_mode(const GemmArgs& args, bool vec, int row_tiles, cudaStream_t stream) {
  const int cols_per_block = MODE == kGemmGateUp ? C::BN / 2 : C::BN;
  const dim3 grid((args.n + cols_per_block - 1) / cols_per_block, row_tiles);
  if (vec) return gpu::launch(gemm_mma_kernel<C, WT, MODE, true>, grid, dim3(C::kThreads), 0, stream, args);
  return gpu::launch(gemm_mma_kernel<C, WT, MODE, false>, grid, dim3(C::kThreads), 0, stream, args);
}

template <class C, typename WT>
cudaError_t launch_cfg(const GemmArgs& args, bool vec, int row_tiles, cudaStream_t stream) {
  switch (args.mode) {
    case kGemmPlain: return launch_mode<C, WT, kGemmPlain>(args, vec, row_tiles, stream);
    case kGemmGateUp: return launch_mode<C, WT, kGemmGateUp>(args, vec, row_tiles, stream);
    case kGemmDown: return launch_mode<C, WT, kGemmDown>(args, vec, row_tiles, stream);
  }
  return cudaErrorInvalidValue;
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// 16-byte loads need k % 8 == 0 (weight rows of 8 halves, x rows of 4 floats at 16-byte offsets)
// and 16-byte aligned bases.
bool vector_loads(const GemmArgs& args) {
  if (args.k % 8 != 0 || !aligned16(args.a)) return false;
  if (args.mode == kGemmPlain) return aligned16(args.w);
  for (int e = 0; e < kMaxExperts; ++e)
    if (!aligned16(args.w1[e]) || !aligned16(args.w3[e]) || !aligned16(args.w2[e])) return false;
  return true;
}

}  // namespace

int gemm_mma_tile_rows(GemmSize size) { return size == GemmSize::kSmall ? SmallMma::BM : LargeMma::BM; }

cudaError_t gemm_mma(const GemmArgs& args, GemmSize size, int row_tiles, cudaStream_t stream) {
  if (args.wdtype == 0 || row_tiles <= 0 || args.n <= 0) return args.wdtype == 0 ? cudaErrorInvalidValue : cudaSuccess;
  const bool vec = vector_loads(args);
  const bool bf16 = args.wdtype == 2;
  if (size == GemmSize::kSmall)
    return bf16 ? launch_cfg<SmallMma, gpu::BF16>(args, vec, row_tiles, stream)
                : launch_cfg<SmallMma, gpu::F16>(args, vec, row_tiles, stream);
  return bf16 ? launch_cfg<LargeMma, gpu::BF16>(args, vec, row_tiles, stream)
              : launch_cfg<LargeMma, gpu::F16>(args, vec, row_tiles, stream);
}

}  // namespace xlam::cuda
