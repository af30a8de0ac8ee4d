// nvcuda::wmma with whole-tile fragments: a GEMM with an alpha epilogue over num_elements against
// a plain loop, and the lane-dependent fragment edit the emulator must report.
#include <cmath>
#include <random>

#include "../../common/gpu-compat.h"
#include "emu-test.h"

using emu_test::DevBuf;
using namespace nvcuda;

namespace {

// C = alpha * A * B; A MxK row-major, B KxN column-major, C MxN row-major; one warp per 16x16 tile.
__global__ void wmma_gemm(const __half* A, const __half* B, float* C, int M, int N, int K, float alpha) {
  const int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int tiles_n = N / 16;
  const int tm = warp / tiles_n, tn = warp % tiles_n;
  if (tm >= M / 16) return;  // whole warps exit together
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
  wmma::fill_fragment(acc, 0.0f);
  for (int k = 0; k < K; k += 16) {
    wmma::load_matrix_sync(a, A + tm * 16 * K + k, K);
    wmma::load_matrix_sync(b, B + tn * 16 * K + k, K);
    wmma::mma_sync(acc, a, b, acc);
  }
  for (int i = 0; i < acc.num_elements; ++i) acc.x[i] *= alpha;
  wmma::store_matrix_sync(C + tm * 16 * N + tn * 16, acc, N, wmma::mem_row_major);
}

TEST_CASE("emu-wmma: 80x48x112 GEMM with an alpha epilogue equals a plain loop") {
  const int M = 80, N = 48, K = 112;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<__half> A(M * K), B(K * N);
  std::vector<float> Af(M * K), Bf(K * N);
  for (int i = 0; i < M * K; ++i) A[i] = __float2half(dist(rng)), Af[i] = __half2float(A[i]);
  for (int i = 0; i < K * N; ++i) B[i] = __float2half(dist(rng)), Bf[i] = __half2float(B[i]);  // column-major
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<__half> dA(A), dB(B);
    DevBuf<float> dC(M * N);
    const int warps = (M / 16) * (N / 16);
    CHECK(gpu::launch(wmma_gemm, dim3((warps * 32 + 127) / 128), dim3(128), 0, nullptr, dA.p, dB.p, dC.p, M, N, K,
                      0.5f) == cudaSuccess);
    const auto C = dC.get();
    double worst = 0;
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double ref = 0;
        for (int k = 0; k < K; ++k) ref += static_cast<double>(Af[i * K + k]) * Bf[j * K + k];
        worst = std::max(worst, std::fabs(C[i * N + j] - 0.5 * ref));
      }
    CHECK_MSG(worst < 1e-3, "%s: max error %g", sch.c_str(), worst);
  }
}

// BUG: one lane edits "its" element: the fragment layout is unspecified, so this is not portable.
__global__ void wmma_lane_dependent(const __half* A, const __half* B, float* C) {
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
  wmma::fill_fragment(acc, 0.0f);
  wmma::load_matrix_sync(a, A, 16);
  wmma::load_matrix_sync(b, B, 16);
  wmma::mma_sync(acc, a, b, acc);
  if (threadIdx.x == 3) acc.x[0] += 1.0f;
  wmma::store_matrix_sync(C, acc, 16, wmma::mem_row_major);
}

TEST_CASE("emu-detect: lane-dependent WMMA fragment") {
  DevBuf<__half> dA(256), dB(256);
  dA.fill(0);
  dB.fill(0);
  DevBuf<float> dC(256);
  CHECK(gpu::launch(wmma_lane_dependent, dim3(1), dim3(32), 0, nullptr, dA.p, dB.p, dC.p) == cudaErrorLaunchFailure);
  CHECK_MSG(emu_test::message_has("lanes hold different fragment contents") &&
                emu_test::message_has("store_matrix_sync"),
            "%s", cuda_emu::last_error_message());
  cudaGetLastError();
}

}  // namespace
