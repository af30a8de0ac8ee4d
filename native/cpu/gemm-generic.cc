// Portable kernels (any CPU): 8 independent partial sums per dot product, a fixed sum tree.
#include "convert.h"
#include "gemm.h"

namespace xlam::cpu {

namespace {

inline float dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

void convert(float* dst, const void* src, DType dtype, int64_t n) {  // f32 [n] <- f16 | bf16 [n]
  load_row_f32(dst, src, dtype, 0, n);
}

void panel(float* out, int64_t ldo, const float* x, int64_t n_tokens, const float* w, int64_t n_rows,
           int64_t n_in) {
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t r = 0; r < n_rows; ++r) out[t * ldo + r] = dot(x + t * n_in, w + r * n_in, n_in);
}

const GemmKernels kGeneric{convert, panel, nullptr, 0, 1, 8};

}  // namespace

const GemmKernels* gemm_kernels_generic() { return &kGeneric; }

}  // namespace xlam::cpu
