// One __device__ wrapper per PTX instruction the kernels use (CUDA-EMULATION.md §9.3 rule 3):
// inline asm under nvcc, the emulator's twin (cuda/emu/) in emulated builds. Kernels never write
// asm themselves. Register layouts are the PTX ISA's ("Matrix fragments for mma.m16n8k16"):
//   a: 4 x b32, each two 16-bit values of A (16x16, row-major), lane l holds rows l/4 and l/4+8,
//      columns (l%4)*2 + {0,1} and +8;
//   b: 2 x b32, each two 16-bit values of B (16x8, column-major), lane l holds column l/4, rows
//      (l%4)*2 + {0,1} and +8;
//   c, d: 4 x f32, lane l holds rows l/4 and l/4+8, columns (l%4)*2 + {0,1}.
// mma.sync with bf16 or f16 inputs at m16n8k16 needs sm_80; the host launchers pick the SIMT
// kernels on sm_75, so these are never executed there (trap if they were).
#pragma once
#include <cstdint>

#include "gpu-compat.h"

namespace gpu {

// d = a * b + c; bf16 inputs, f32 accumulation. A warp collective: all 32 lanes, converged.
__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4],
                                                  const uint32_t (&b)[2], const float (&c)[4]) {
#if GPU_EMULATED
  cuda_emu::ptx::mma_m16n8k16_bf16(d, a, b, c);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]),
        "f"(c[2]), "f"(c[3]));
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

// d = a * b + c; f16 inputs, f32 accumulation. Same layouts as the bf16 form.
__device__ __forceinline__ void mma_m16n8k16_f16(float (&d)[4], const uint32_t (&a)[4],
                                                 const uint32_t (&b)[2], const float (&c)[4]) {
#if GPU_EMULATED
  cuda_emu::ptx::mma_m16n8k16_f16(d, a, b, c);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]),
        "f"(c[2]), "f"(c[3]));
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}

}  // namespace gpu
