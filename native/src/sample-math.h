// The arithmetic of the draw that the host sampler (sample.cc) and the CUDA sample op
// (cuda/sample-rows.cu) share, so both compute the same weights bit for bit. Host and device code
// (XLAM_HD); products and sums go through *_rn, which keep nvcc from contracting them into FMAs
// (the host compiler does not contract with the baseline x86-64 ISA).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "host-device.h"

namespace xlam {

// Tokens per block of the unfiltered draw: its weights are summed per block of this many ids.
constexpr int64_t kDrawBlock = 256;
// The largest vocabulary the sample op takes (token ids and index arithmetic in i32 with room).
constexpr int64_t kMaxSampleVocab = int64_t{1} << 30;

XLAM_HD inline float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
XLAM_HD inline float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
XLAM_HD inline double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
XLAM_HD inline double sub_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dsub_rn(a, b);
#else
  return a - b;
#endif
}

// e^x for x <= 0 in float, relative error about 2e-7, 0 below -87: e^r (|r| <= ln2/2, Taylor to
// r^6 in Horner form) times 2^n (the exponent bits). Plain arithmetic, so the host loop calling it
// vectorizes with the baseline ISA (given -fno-trapping-math: see CMakeLists.txt).
XLAM_HD inline float exp_nonpositive(float x) {
  const float t = mul_rn(x, 1.44269504088896341f);
  const int n = static_cast<int>(sub_rn(t, 0.5f));  // round(t) for t <= 0
  const float nf = static_cast<float>(n);
  const float r = sub_rn(sub_rn(x, mul_rn(nf, 0.693145751953125f)), mul_rn(nf, 1.428606765330187e-06f));
  float q = 1.0f / 720;
  q = mul_rn(q, r) + 1.0f / 120;
  q = mul_rn(q, r) + 1.0f / 24;
  q = mul_rn(q, r) + 1.0f / 6;
  q = mul_rn(q, r) + 0.5f;
  q = mul_rn(q, r) + 1.0f;
  q = mul_rn(q, r) + 1.0f;
  const int32_t bits = (n < -126 ? 0 : n + 127) << 23;  // 2^n, or 0 when it underflows
#if defined(__CUDA_ARCH__)
  const float scale = __int_as_float(bits);
#else
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
#endif
  return mul_rn(q, scale);
}

// The unfiltered draw's weight of a logit: e^(l / T - top) in float, where top = max logit / T
// (both products by inv_t = 1 / T in float); NaN and -inf weigh 0.
XLAM_HD inline float draw_weight(float logit, float inv_t, float top) {
  return exp_nonpositive(logit > -INFINITY ? sub_rn(mul_rn(logit, inv_t), top) : -200.0f);
}

// The filtered draw's weight (before normalization) of a logit: e^(l / T - top) in double, where
// top = max logit / T, both products by inv_t = 1 / T in double.
XLAM_HD inline double filtered_weight(float logit, double inv_t, double top) {
  return ::exp(sub_rn(mul_rn(static_cast<double>(logit), inv_t), top));
}

// The sample op's per-row parameters, in the ranges validate_sampling accepts (temperature finite
// and >= 0, top_p in (0, 1], min_p in [0, 1]) and top_k a whole number >= 0 (+inf: no limit).
XLAM_HD inline bool draw_params_valid(float temperature, float top_p, float min_p, float top_k) {
  return temperature >= 0 && temperature <= 3.40282347e+38f && top_p > 0 && top_p <= 1 && min_p >= 0 &&
         min_p <= 1 && top_k >= 0 && ::floorf(top_k) == top_k;
}

// top_k given as a float (draw_params_valid) as the sampler's int: at most 2^31 - 1.
XLAM_HD inline int32_t top_k_of(float top_k) {
  return top_k >= 2147483520.0f ? 2147483647 : static_cast<int32_t>(top_k);
}

}  // namespace xlam
