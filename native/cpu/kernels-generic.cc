// Portable kernels (any CPU): 8 independent partial sums per dot product, a fixed sum tree;
// attention values accumulate per element in position order.
#include "convert.h"
#include "kernels.h"

namespace xlam::cpu {

float dot_fixed_order(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

namespace {

void convert(float* dst, const void* src, DType dtype, int64_t n) {  // f32 [n] <- f16 | bf16 [n]
  load_row_f32(dst, src, dtype, 0, n);
}

void panel(float* out, int64_t ldo, const float* x, int64_t n_tokens, const float* w, int64_t n_rows,
           int64_t n_in) {
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t r = 0; r < n_rows; ++r) out[t * ldo + r] = dot_fixed_order(x + t * n_in, w + r * n_in, n_in);
}

void qk(float* s, int64_t ld_s, const float* q, int64_t group, const float* k, int64_t k_stride, int64_t n_pos,
        int64_t head_dim, float scale) {
  for (int64_t p = 0; p < n_pos; ++p)
    for (int64_t h = 0; h < group; ++h) s[h * ld_s + p] = dot_fixed_order(q + h * head_dim, k + p * k_stride, head_dim) * scale;
}

void pv(float* o, const float* w, int64_t ld_w, int64_t group, const float* v, int64_t v_stride, int64_t n_pos,
        int64_t head_dim) {
  for (int64_t h = 0; h < group; ++h)
    for (int64_t p = 0; p < n_pos; ++p) {
      const float wp = w[h * ld_w + p];
      const float* vr = v + p * v_stride;
      for (int64_t i = 0; i < head_dim; ++i) o[h * head_dim + i] += wp * vr[i];
    }
}

const Kernels kGeneric{convert, panel, nullptr, nullptr, nullptr, 1, 8, 1, 8, qk, pv};

}  // namespace

const Kernels* kernels_generic() { return &kGeneric; }

}  // namespace xlam::cpu
