#include <cstring>

#include "kernels.h"

namespace xlam::cpu {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAuto: return "auto";
    case Isa::kGeneric: return "generic";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

bool parse_isa(const char* text, Isa* out) {
  for (Isa isa : {Isa::kAuto, Isa::kGeneric, Isa::kAvx2, Isa::kAvx512})
    if (std::strcmp(text, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  return false;
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::kAuto:
    case Isa::kGeneric: return true;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    // __builtin_cpu_supports also checks that the OS saves the wider registers (XCR0).
    case Isa::kAvx2:
      return kernels_avx2() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    case Isa::kAvx512:
      return kernels_avx512() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#else
    case Isa::kAvx2:
    case Isa::kAvx512: return false;
#endif
  }
  return false;
}

Isa detect_isa() {
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2})
    if (isa_supported(isa)) return isa;
  return Isa::kGeneric;
}

const Kernels& kernels_for(Isa isa) {
  const Kernels* k = nullptr;
  if (isa == Isa::kAvx512) k = kernels_avx512();
  if (isa == Isa::kAvx2) k = kernels_avx2();
  return k ? *k : *kernels_generic();
}

void interleave_bf16_order(float* dst, const float* x, int64_t n_tokens, int64_t n_in, int64_t block) {
  const int64_t padded = (n_in + block - 1) / block * block, half = block / 2;
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t b = 0; b < padded; b += block)
      for (int64_t j = 0; j < block; ++j) {
        const int64_t lane = j % half, k = b + 8 * (lane / 4) + lane % 4 + (j < half ? 0 : 4);
        dst[t * padded + b + j] = k < n_in ? x[t * n_in + k] : 0.0f;
      }
}

}  // namespace xlam::cpu
