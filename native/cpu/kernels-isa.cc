#include <cstring>

#include "kernels.h"

namespace xlam::cpu {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAuto: return "auto";
    case Isa::kGeneric: return "generic";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kAmx: return "amx";
  }
  return "?";
}

bool parse_isa(const char* text, Isa* out) {
  for (Isa isa : {Isa::kAuto, Isa::kGeneric, Isa::kAvx2, Isa::kAvx512, Isa::kAmx})
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
    case Isa::kAmx: return kernels_amx() && isa_supported(Isa::kAvx512) && amx_usable();
#else
    case Isa::kAvx2:
    case Isa::kAvx512:
    case Isa::kAmx: return false;
#endif
  }
  return false;
}

Isa detect_isa() {
  for (Isa isa : {Isa::kAmx, Isa::kAvx512, Isa::kAvx2})
    if (isa_supported(isa)) return isa;
  return Isa::kGeneric;
}

const Kernels& kernels_for(Isa isa) {
  const Kernels* k = nullptr;
  if (isa == Isa::kAvx512) k = kernels_avx512();
  if (isa == Isa::kAvx2) k = kernels_avx2();
  if (isa == Isa::kAmx) k = kernels_amx();
  return k ? *k : *kernels_generic();
}

namespace {

void interleave(float* dst, const float* x, int64_t n_tokens, int64_t n_in, int64_t block) {
  const int64_t padded = (n_in + block - 1) / block * block, half = block / 2;
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t b = 0; b < padded; b += block)
      for (int64_t j = 0; j < block; ++j) {
        const int64_t lane = j % half, k = b + 8 * (lane / 4) + lane % 4 + (j < half ? 0 : 4);
        dst[t * padded + b + j] = k < n_in ? x[t * n_in + k] : 0.0f;
      }
}

}  // namespace

int64_t interleaved_x_bytes_16(int64_t n_tokens, int64_t n_in) { return n_tokens * ((n_in + 15) / 16 * 16) * 4; }
int64_t interleaved_x_bytes_32(int64_t n_tokens, int64_t n_in) { return n_tokens * ((n_in + 31) / 32 * 32) * 4; }
void interleave_x_16(void* xp, const float* x, int64_t n_tokens, int64_t n_in) {
  interleave(static_cast<float*>(xp), x, n_tokens, n_in, 16);
}
void interleave_x_32(void* xp, const float* x, int64_t n_tokens, int64_t n_in) {
  interleave(static_cast<float*>(xp), x, n_tokens, n_in, 32);
}

}  // namespace xlam::cpu
