// The mma.sync.m16n8k16 twins against a plain loop: a 16x8x16 GEMM whose fragments each lane
// builds by hand from the PTX ISA's element formulas (written independently of ptx.cc's tables):
//   A element i (0..7) of lane l: row = l/4 + 8*((i/2)%2), col = (l%4)*2 + i%2 + 8*(i/4)
//   B element i (0..3):           row = (l%4)*2 + i%2 + 8*(i/2), col = l/4
//   C/D element i (0..3):         row = l/4 + 8*(i/2),           col = (l%4)*2 + i%2
// Elements 2j and 2j+1 share register j, the even one in the low 16 bits.
#include <cmath>
#include <random>

#include "../../common/ptx.cuh"
#include "emu-test.h"

using emu_test::DevBuf;

namespace {

template <bool kBf16>
__global__ void mma_tile(const uint16_t* A, const uint16_t* B, const float* C, float* D) {
  const int l = threadIdx.x;
  uint32_t a[4] = {}, b[2] = {};
  float c[4], d[4];
  for (int i = 0; i < 8; ++i) {
    const int row = l / 4 + 8 * ((i / 2) % 2), col = (l % 4) * 2 + i % 2 + 8 * (i / 4);
    a[i / 2] |= static_cast<uint32_t>(A[row * 16 + col]) << (16 * (i % 2));
  }
  for (int i = 0; i < 4; ++i) {
    const int row = (l % 4) * 2 + i % 2 + 8 * (i / 2), col = l / 4;
    b[i / 2] |= static_cast<uint32_t>(B[row * 8 + col]) << (16 * (i % 2));
  }
  for (int i = 0; i < 4; ++i) c[i] = C[(l / 4 + 8 * (i / 2)) * 8 + (l % 4) * 2 + i % 2];
  if (kBf16)
    gpu::mma_m16n8k16_bf16(d, a, b, c);
  else
    gpu::mma_m16n8k16_f16(d, a, b, c);
  for (int i = 0; i < 4; ++i) D[(l / 4 + 8 * (i / 2)) * 8 + (l % 4) * 2 + i % 2] = d[i];
}

template <bool kBf16>
void run_case() {
  std::mt19937 rng(kBf16 ? 3 : 4);
  std::uniform_real_distribution<float> dist(-2, 2);
  std::vector<uint16_t> A(256), B(128);
  std::vector<float> Af(256), Bf(128), C(128);
  auto round16 = [&](float x, uint16_t* bits) {
    if (kBf16) {
      const __nv_bfloat16 h = __float2bfloat16(x);
      *bits = __bfloat16_as_ushort(h);
      return __bfloat162float(h);
    }
    const __half h = __float2half(x);
    *bits = __half_as_ushort(h);
    return __half2float(h);
  };
  for (int i = 0; i < 256; ++i) Af[i] = round16(dist(rng), &A[i]);
  for (int i = 0; i < 128; ++i) Bf[i] = round16(dist(rng), &B[i]);
  for (float& v : C) v = dist(rng);
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<uint16_t> dA(A), dB(B);
    DevBuf<float> dC(C), dD(128);
    CHECK(gpu::launch(mma_tile<kBf16>, dim3(1), dim3(32), 0, nullptr, dA.p, dB.p, dC.p, dD.p) == cudaSuccess);
    const auto got = dD.get();
    double worst = 0;
    for (int i = 0; i < 16; ++i)
      for (int j = 0; j < 8; ++j) {
        double ref = C[i * 8 + j];
        for (int k = 0; k < 16; ++k) ref += static_cast<double>(Af[i * 16 + k]) * Bf[k * 8 + j];
        worst = std::max(worst, std::fabs(got[i * 8 + j] - ref));
      }
    CHECK_MSG(worst < 1e-4, "%s %s: max error %g", kBf16 ? "bf16" : "f16", sch.c_str(), worst);
  }
}

TEST_CASE("emu-mma: m16n8k16 bf16 twin equals a plain loop") { run_case<true>(); }
TEST_CASE("emu-mma: m16n8k16 f16 twin equals a plain loop") { run_case<false>(); }

}  // namespace
