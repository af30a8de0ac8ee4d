// Emulated twins of the PTX instructions wrapped in cuda/common/ptx.cuh (CUDA-EMULATION.md §1.5).
// mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}: a warp collective; all 32 lanes park with
// their fragment registers, the last one rebuilds A (16x16), B (16x8) and C (16x8) from the PTX
// ISA's fragment layout, computes D = A*B + C and scatters D into every lane's registers (ptx.cc).
#pragma once
#include <cstdint>

#include "device.h"

namespace cuda_emu::ptx {

struct MmaOperands {
  float* d;
  const uint32_t* a;
  const uint32_t* b;
  const float* c;
};
// Bodies of the collective (ptx.cc): element type bf16 or f16.
void mma_m16n8k16_bf16_body(detail::CollOp* const* lanes, unsigned participants);
void mma_m16n8k16_f16_body(detail::CollOp* const* lanes, unsigned participants);

inline void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4],
                              const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  MmaOperands ops{d, a, b, c};
  detail::custom("mma.sync.m16n8k16.bf16", kFullMask, &mma_m16n8k16_bf16_body, &ops, file, line);
}
inline void mma_m16n8k16_f16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4],
                             const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  MmaOperands ops{d, a, b, c};
  detail::custom("mma.sync.m16n8k16.f16", kFullMask, &mma_m16n8k16_f16_body, &ops, file, line);
}

}  // namespace cuda_emu::ptx
