// Bodies of the emulated PTX twins (ptx.h). Layouts from the PTX ISA, "Matrix Fragments for
// mma.m16n8k16 with floating point type" (.f16/.bf16 inputs, .f32 accumulators); with
// group = lane / 4 and tig = lane % 4 (thread in group):
//   A (16x16, row-major), 4 x b32 = a0..a7, two 16-bit values each, low half first:
//     a0,a1: row group,     cols tig*2 + {0,1}      (register 0)
//     a2,a3: row group + 8, cols tig*2 + {0,1}      (register 1)
//     a4,a5: row group,     cols tig*2 + 8 + {0,1}  (register 2)
//     a6,a7: row group + 8, cols tig*2 + 8 + {0,1}  (register 3)
//   B (16x8, "col"), 2 x b32 = b0..b3:
//     b0,b1: rows tig*2 + {0,1},     col group      (register 0)
//     b2,b3: rows tig*2 + 8 + {0,1}, col group      (register 1)
//   C, D (16x8), 4 x f32:
//     c0,c1: row group,     cols tig*2 + {0,1}
//     c2,c3: row group + 8, cols tig*2 + {0,1}
// Products of two 16-bit floats are exact in float; the sum is accumulated in double and
// rounded once (tensor cores round differently: tolerances, not bit equality).
#include <cmath>
#include <cstring>

#include "internal.h"
#include "ptx.h"

namespace cuda_emu::ptx {
namespace {

float bf16_to_float(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float f16_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1u, exp = (h >> 10) & 31u, man = h & 1023u;
  float v;
  if (exp == 0)
    v = std::ldexp(static_cast<float>(man), -24);  // subnormal (or zero)
  else if (exp == 31)
    v = man ? std::nanf("") : INFINITY;
  else
    v = std::ldexp(static_cast<float>(man | 1024u), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

template <float (*cvt)(uint16_t)>
void mma_body(detail::CollOp* const* lanes, unsigned participants) {
  if (participants != 0xffffffffu) {  // lanes exited or absent (a partial warp): no GPU result either
    const detail::CollOp* any = nullptr;
    for (unsigned l = 0; l < 32 && !any; ++l) any = lanes[l];
    detail::kernel_error(any->file, any->line, "%s needs all 32 lanes of the warp; only lanes 0x%08x take part",
                         any->name, participants);
  }
  float A[16][16], B[16][8], C[16][8];
  for (unsigned l = 0; l < 32; ++l) {
    const auto* o = static_cast<const MmaOperands*>(lanes[l]->arg);
    const unsigned g = l / 4, t = l % 4;
    for (unsigned r = 0; r < 4; ++r) {
      const unsigned row = g + ((r & 1u) ? 8 : 0), col = t * 2 + ((r & 2u) ? 8 : 0);
      A[row][col] = cvt(static_cast<uint16_t>(o->a[r] & 0xffffu));
      A[row][col + 1] = cvt(static_cast<uint16_t>(o->a[r] >> 16));
    }
    for (unsigned r = 0; r < 2; ++r) {
      const unsigned row = t * 2 + (r ? 8 : 0);
      B[row][g] = cvt(static_cast<uint16_t>(o->b[r] & 0xffffu));
      B[row + 1][g] = cvt(static_cast<uint16_t>(o->b[r] >> 16));
    }
    for (unsigned i = 0; i < 4; ++i) C[g + (i >= 2 ? 8 : 0)][t * 2 + (i & 1u)] = o->c[i];
  }
  float D[16][8];
  for (unsigned i = 0; i < 16; ++i)
    for (unsigned j = 0; j < 8; ++j) {
      double acc = C[i][j];
      for (unsigned k = 0; k < 16; ++k) acc += static_cast<double>(A[i][k]) * B[k][j];
      D[i][j] = static_cast<float>(acc);
    }
  // d may alias c in the caller (d = a*b + d): written only after every lane's c was read.
  for (unsigned l = 0; l < 32; ++l) {
    const auto* o = static_cast<const MmaOperands*>(lanes[l]->arg);
    const unsigned g = l / 4, t = l % 4;
    for (unsigned i = 0; i < 4; ++i) o->d[i] = D[g + (i >= 2 ? 8 : 0)][t * 2 + (i & 1u)];
  }
}

}  // namespace

void mma_m16n8k16_bf16_body(detail::CollOp* const* lanes, unsigned participants) {
  mma_body<bf16_to_float>(lanes, participants);
}
void mma_m16n8k16_f16_body(detail::CollOp* const* lanes, unsigned participants) {
  mma_body<f16_to_float>(lanes, participants);
}

}  // namespace cuda_emu::ptx
