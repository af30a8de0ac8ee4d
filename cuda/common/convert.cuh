// Device helpers shared by the dense and MoE kernels: f16/bf16 <-> f32 conversions on raw bit
// patterns (the same bits as native/cpu/convert.h), the exact 3-term bf16 split of an f32
// activation used by the tensor-core GEMM, explicitly rounded arithmetic (no FMA contraction where
// the CPU reference rounds each step), and the SwiGLU activation.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

#include "gpu-compat.h"

namespace gpu {

__host__ __device__ __forceinline__ uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
__host__ __device__ __forceinline__ float f32_from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// bf16 bits -> f32 (exact).
__host__ __device__ __forceinline__ float bf16_to_f32(uint16_t h) {
  return f32_from_bits(static_cast<uint32_t>(h) << 16);
}

// f32 -> bf16 bits, round to nearest even, NaN kept quiet (as __float2bfloat16_rn and cpu::f32_to_bf16).
__host__ __device__ __forceinline__ uint16_t f32_to_bf16(float f) {
  uint32_t bits = f32_bits(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

// f16 bits -> f32 (exact, subnormals included).
__host__ __device__ __forceinline__ float f16_to_f32(uint16_t h) {
  __half_raw r;
  r.x = h;
  return __half2float(__half(r));
}

// Weight element types as stored: float, or the raw 16-bit patterns of f16 / bf16.
struct F16 {
  uint16_t bits;
};
struct BF16 {
  uint16_t bits;
};

__host__ __device__ __forceinline__ float to_f32(float v) { return v; }
__host__ __device__ __forceinline__ float to_f32(F16 v) { return f16_to_f32(v.bits); }
__host__ __device__ __forceinline__ float to_f32(BF16 v) { return bf16_to_f32(v.bits); }

// Element i of a weight-dtype vector given its dtype at run time (0: f32, 1: f16, 2: bf16, as
// xlam::DType's kF32, kF16, kBF16).
__device__ __forceinline__ float load_weight(const void* p, int dtype, int64_t i) {
  if (dtype == 0) return static_cast<const float*>(p)[i];
  const uint16_t h = static_cast<const uint16_t*>(p)[i];
  return dtype == 1 ? f16_to_f32(h) : bf16_to_f32(h);
}

// x = hi + mid + lo with each term bf16 (RNE): 8 + 8 + 8 significant bits, so the sum is x exactly
// for every normal x whose lowest set bit lies within 24 bits of its leading one (all f32 values
// above bf16's subnormal range, ~1e-38); every subtraction is exact (Sterbenz). A bf16 weight times
// each term is exact in f32, so hi*w + mid*w + lo*w accumulated in f32 is an f32-accurate x*w.
__host__ __device__ __forceinline__ void split3_bf16(float x, uint16_t& hi, uint16_t& mid, uint16_t& lo) {
  hi = f32_to_bf16(x);
  const float r1 = x - bf16_to_f32(hi);
  mid = f32_to_bf16(r1);
  const float r2 = r1 - bf16_to_f32(mid);
  lo = f32_to_bf16(r2);
}

// An f16 weight as the exact sum of two bf16 values: hi = bf16(w) keeps 8 of f16's 11 significant
// bits, the remainder w - hi is a multiple of w's ulp of at most 4 ulps (<= 3 bits) and f16's range
// (subnormals included) lies inside bf16's, so lo = w - hi is exact in bf16 and hi + lo == w.
__host__ __device__ __forceinline__ void split2_f16_as_bf16(uint16_t w, uint16_t& hi, uint16_t& lo) {
  const float f = f16_to_f32(w);
  hi = f32_to_bf16(f);
  lo = f32_to_bf16(f - bf16_to_f32(hi));
}

__host__ __device__ __forceinline__ uint32_t pack2(uint16_t lo_half, uint16_t hi_half) {
  return static_cast<uint32_t>(lo_half) | (static_cast<uint32_t>(hi_half) << 16);
}

// Single-rounding arithmetic: nvcc would contract a*b+c into an FMA; these keep each step rounded
// as the CPU reference does. In emulation host arithmetic is already uncontracted (no -mfma).
__device__ __forceinline__ float mul_rn(float a, float b) {
#if GPU_EMULATED
  return a * b;
#else
  return __fmul_rn(a, b);
#endif
}
__device__ __forceinline__ float add_rn(float a, float b) {
#if GPU_EMULATED
  return a + b;
#else
  return __fadd_rn(a, b);
#endif
}
__device__ __forceinline__ float sub_rn(float a, float b) {
#if GPU_EMULATED
  return a - b;
#else
  return __fsub_rn(a, b);
#endif
}
__device__ __forceinline__ float div_rn(float a, float b) {
#if GPU_EMULATED
  return a / b;
#else
  return __fdiv_rn(a, b);
#endif
}

// silu(g) * u = g / (1 + exp(-g)) * u in f32 (expf: full-precision, not __expf).
__device__ __forceinline__ float silu_mul(float g, float u) {
  return mul_rn(div_rn(g, add_rn(1.0f, expf(-g))), u);
}

}  // namespace gpu
