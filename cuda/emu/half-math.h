// The device-only half and bfloat16 functions of cuda_fp16.h / cuda_bf16.h that kernels use
// (CUDA-EMULATION.md §1.4): fused multiply-add and the math functions, computed in float and
// rounded once. Everything else (conversions, arithmetic, comparisons) comes from the toolkit's
// own host paths.
#pragma once
#include <cmath>

#define CUDA_EMU_HALF_UNARY(name, expr)                                                                         \
  inline __half name(const __half a) {                                                                          \
    const float x = __half2float(a);                                                                            \
    return __float2half(expr);                                                                                  \
  }                                                                                                             \
  inline __nv_bfloat16 name(const __nv_bfloat16 a) {                                                            \
    const float x = __bfloat162float(a);                                                                        \
    return __float2bfloat16(expr);                                                                              \
  }
#define CUDA_EMU_HALF2_UNARY(name, one)                                                                         \
  inline __half2 name(const __half2 a) { return __halves2half2(one(__low2half(a)), one(__high2half(a))); }     \
  inline __nv_bfloat162 name(const __nv_bfloat162 a) {                                                          \
    return __halves2bfloat162(one(__low2bfloat16(a)), one(__high2bfloat16(a)));                                \
  }
CUDA_EMU_HALF_UNARY(hexp, std::exp(x))
CUDA_EMU_HALF_UNARY(hexp2, std::exp2(x))
CUDA_EMU_HALF_UNARY(hexp10, std::pow(10.0f, x))
CUDA_EMU_HALF_UNARY(hlog, std::log(x))
CUDA_EMU_HALF_UNARY(hlog2, std::log2(x))
CUDA_EMU_HALF_UNARY(hlog10, std::log10(x))
CUDA_EMU_HALF_UNARY(hsqrt, std::sqrt(x))
CUDA_EMU_HALF_UNARY(hrsqrt, 1.0f / std::sqrt(x))
CUDA_EMU_HALF_UNARY(hrcp, 1.0f / x)
CUDA_EMU_HALF_UNARY(hsin, std::sin(x))
CUDA_EMU_HALF_UNARY(hcos, std::cos(x))
CUDA_EMU_HALF_UNARY(htanh, std::tanh(x))
CUDA_EMU_HALF_UNARY(hfloor, std::floor(x))
CUDA_EMU_HALF_UNARY(hceil, std::ceil(x))
CUDA_EMU_HALF_UNARY(htrunc, std::trunc(x))
CUDA_EMU_HALF_UNARY(hrint, std::nearbyint(x))
CUDA_EMU_HALF2_UNARY(h2exp, hexp)
CUDA_EMU_HALF2_UNARY(h2exp2, hexp2)
CUDA_EMU_HALF2_UNARY(h2exp10, hexp10)
CUDA_EMU_HALF2_UNARY(h2log, hlog)
CUDA_EMU_HALF2_UNARY(h2log2, hlog2)
CUDA_EMU_HALF2_UNARY(h2log10, hlog10)
CUDA_EMU_HALF2_UNARY(h2sqrt, hsqrt)
CUDA_EMU_HALF2_UNARY(h2rsqrt, hrsqrt)
CUDA_EMU_HALF2_UNARY(h2rcp, hrcp)
CUDA_EMU_HALF2_UNARY(h2sin, hsin)
CUDA_EMU_HALF2_UNARY(h2cos, hcos)
CUDA_EMU_HALF2_UNARY(h2tanh, htanh)
CUDA_EMU_HALF2_UNARY(h2floor, hfloor)
CUDA_EMU_HALF2_UNARY(h2ceil, hceil)
CUDA_EMU_HALF2_UNARY(h2trunc, htrunc)
CUDA_EMU_HALF2_UNARY(h2rint, hrint)
#undef CUDA_EMU_HALF_UNARY
#undef CUDA_EMU_HALF2_UNARY

// a * b + c with one rounding (the float product of two halves is exact, the sum rounds once).
inline __half __hfma(const __half a, const __half b, const __half c) {
  return __float2half(std::fma(__half2float(a), __half2float(b), __half2float(c)));
}
inline __nv_bfloat16 __hfma(const __nv_bfloat16 a, const __nv_bfloat16 b, const __nv_bfloat16 c) {
  return __float2bfloat16(std::fma(__bfloat162float(a), __bfloat162float(b), __bfloat162float(c)));
}
inline __half2 __hfma2(const __half2 a, const __half2 b, const __half2 c) {
  return __halves2half2(__hfma(__low2half(a), __low2half(b), __low2half(c)),
                        __hfma(__high2half(a), __high2half(b), __high2half(c)));
}
inline __nv_bfloat162 __hfma2(const __nv_bfloat162 a, const __nv_bfloat162 b, const __nv_bfloat162 c) {
  return __halves2bfloat162(__hfma(__low2bfloat16(a), __low2bfloat16(b), __low2bfloat16(c)),
                            __hfma(__high2bfloat16(a), __high2bfloat16(b), __high2bfloat16(c)));
}
inline __half __hfma_relu(const __half a, const __half b, const __half c) {
  const __half r = __hfma(a, b, c);
  return __hisnan(r) ? r : (__half2float(r) < 0.0f ? __float2half(0.0f) : r);
}
inline __nv_bfloat16 __hfma_relu(const __nv_bfloat16 a, const __nv_bfloat16 b, const __nv_bfloat16 c) {
  const __nv_bfloat16 r = __hfma(a, b, c);
  return __hisnan(r) ? r : (__bfloat162float(r) < 0.0f ? __float2bfloat16(0.0f) : r);
}
