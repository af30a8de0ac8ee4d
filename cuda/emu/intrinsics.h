// Device intrinsics for the emulated build: fast math (computed exactly on the host, so more
// accurate than the GPU), integer and bit operations, conversions with explicit rounding, cache-hint
// loads and stores, fences, timers. Included by cuda-emu.h after the toolkit headers.
//
// glibc already declares __expf, __logf, __sinf, ... (its internal names) without exporting them,
// so those are defined out of line in math.cc with glibc's exact declaration.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <x86intrin.h>

#include "device.h"

// --- float math -----------------------------------------------------------------------------------
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __frsqrt_rn(float x) { return 1.0f / std::sqrt(x); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / std::cbrt(x); }
inline float __saturatef(float x) { return std::isnan(x) ? 0.0f : (x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x)); }

// --- reinterpretation -----------------------------------------------------------------------------
template <class To, class From>
inline To cuda_emu_bits(From v) {
  static_assert(sizeof(To) == sizeof(From), "same size");
  To r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
inline int __float_as_int(float x) { return cuda_emu_bits<int>(x); }
inline unsigned __float_as_uint(float x) { return cuda_emu_bits<unsigned>(x); }
inline float __int_as_float(int x) { return cuda_emu_bits<float>(x); }
inline float __uint_as_float(unsigned x) { return cuda_emu_bits<float>(x); }
inline long long __double_as_longlong(double x) { return cuda_emu_bits<long long>(x); }
inline double __longlong_as_double(long long x) { return cuda_emu_bits<double>(x); }
inline int __double2hiint(double x) { return static_cast<int>(cuda_emu_bits<uint64_t>(x) >> 32); }
inline int __double2loint(double x) { return static_cast<int>(cuda_emu_bits<uint64_t>(x) & 0xffffffffu); }
inline double __hiloint2double(int hi, int lo) {
  return cuda_emu_bits<double>((static_cast<uint64_t>(static_cast<uint32_t>(hi)) << 32) | static_cast<uint32_t>(lo));
}

// --- conversions with explicit rounding (rn: to nearest even, rz: toward zero, ru: up, rd: down) ---
namespace cuda_emu::detail {
template <class T>
inline T saturating_cast(double v) {  // cvt.rzi-style saturation; NaN -> 0
  if (std::isnan(v)) return 0;
  if (v <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
  if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}
inline double round_mode(double v, char mode) {
  switch (mode) {
    case 'n': return std::nearbyint(v);  // the default FP environment rounds to nearest even
    case 'z': return std::trunc(v);
    case 'u': return std::ceil(v);
    default: return std::floor(v);
  }
}
}  // namespace cuda_emu::detail
#define CUDA_EMU_CVT(name, From, To, mode) \
  inline To name(From x) { return cuda_emu::detail::saturating_cast<To>(cuda_emu::detail::round_mode(x, mode)); }
CUDA_EMU_CVT(__float2int_rn, float, int, 'n')
CUDA_EMU_CVT(__float2int_rz, float, int, 'z')
CUDA_EMU_CVT(__float2int_ru, float, int, 'u')
CUDA_EMU_CVT(__float2int_rd, float, int, 'd')
CUDA_EMU_CVT(__float2uint_rn, float, unsigned, 'n')
CUDA_EMU_CVT(__float2uint_rz, float, unsigned, 'z')
CUDA_EMU_CVT(__float2uint_ru, float, unsigned, 'u')
CUDA_EMU_CVT(__float2uint_rd, float, unsigned, 'd')
CUDA_EMU_CVT(__float2ll_rn, float, long long, 'n')
CUDA_EMU_CVT(__float2ll_rz, float, long long, 'z')
CUDA_EMU_CVT(__double2int_rn, double, int, 'n')
CUDA_EMU_CVT(__double2int_rz, double, int, 'z')
#undef CUDA_EMU_CVT
inline float __int2float_rn(int x) { return static_cast<float>(x); }
inline float __uint2float_rn(unsigned x) { return static_cast<float>(x); }
inline float __ll2float_rn(long long x) { return static_cast<float>(x); }
inline float __double2float_rn(double x) { return static_cast<float>(x); }
inline double __int2double_rn(int x) { return x; }

// --- integer and bit operations ---------------------------------------------------------------------
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline unsigned long long __brevll(unsigned long long x) {
  return (static_cast<unsigned long long>(__brev(static_cast<unsigned>(x))) << 32) | __brev(static_cast<unsigned>(x >> 32));
}
// prmt (default mode): byte i of the result is byte s[4i+2:4i] of {y,x} (x the low word).
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
  const uint64_t v = (static_cast<uint64_t>(y) << 32) | x;
  unsigned r = 0;
  for (int i = 0; i < 4; ++i) r |= static_cast<unsigned>((v >> (8 * ((s >> (4 * i)) & 7))) & 0xff) << (8 * i);
  return r;
}
inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned shift) {
  const uint64_t v = (static_cast<uint64_t>(hi) << 32) | lo;
  return static_cast<unsigned>((v << (shift & 31)) >> 32);
}
inline unsigned __funnelshift_lc(unsigned lo, unsigned hi, unsigned shift) {
  const uint64_t v = (static_cast<uint64_t>(hi) << 32) | lo;
  return static_cast<unsigned>((v << (shift > 32 ? 32 : shift)) >> 32);
}
inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned shift) {
  const uint64_t v = (static_cast<uint64_t>(hi) << 32) | lo;
  return static_cast<unsigned>(v >> (shift & 31));
}
inline unsigned __funnelshift_rc(unsigned lo, unsigned hi, unsigned shift) {
  const uint64_t v = (static_cast<uint64_t>(hi) << 32) | lo;
  return static_cast<unsigned>(v >> (shift > 32 ? 32 : shift));
}
inline int __mulhi(int a, int b) { return static_cast<int>((static_cast<int64_t>(a) * b) >> 32); }
inline unsigned __umulhi(unsigned a, unsigned b) { return static_cast<unsigned>((static_cast<uint64_t>(a) * b) >> 32); }
inline long long __mul64hi(long long a, long long b) { return static_cast<long long>((static_cast<__int128>(a) * b) >> 64); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}
inline int __mul24(int a, int b) {
  return static_cast<int>(static_cast<int64_t>((a << 8) >> 8) * ((b << 8) >> 8));
}
inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xffffffu) * (b & 0xffffffu); }
inline int __hadd(int a, int b) { return static_cast<int>((static_cast<int64_t>(a) + b) >> 1); }
inline int __rhadd(int a, int b) { return static_cast<int>((static_cast<int64_t>(a) + b + 1) >> 1); }
inline unsigned __uhadd(unsigned a, unsigned b) { return static_cast<unsigned>((static_cast<uint64_t>(a) + b) >> 1); }
inline unsigned __urhadd(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<uint64_t>(a) + b + 1) >> 1);
}
inline unsigned __sad(int x, int y, unsigned z) { return z + static_cast<unsigned>(x > y ? x - y : y - x); }
inline unsigned __usad(unsigned x, unsigned y, unsigned z) { return z + (x > y ? x - y : y - x); }

// --- cache-hinted loads and stores: plain accesses here ---------------------------------------------
template <class T> inline T __ldg(const T* p) { return *p; }
template <class T> inline T __ldcg(const T* p) { return *p; }
template <class T> inline T __ldca(const T* p) { return *p; }
template <class T> inline T __ldcs(const T* p) { return *p; }
template <class T> inline T __ldlu(const T* p) { return *p; }
template <class T> inline T __ldcv(const T* p) { return *p; }
template <class T> inline void __stwb(T* p, T v) { *p = v; }
template <class T> inline void __stcg(T* p, T v) { *p = v; }
template <class T> inline void __stcs(T* p, T v) { *p = v; }
template <class T> inline void __stwt(T* p, T v) { *p = v; }

// --- fences, timers, traps --------------------------------------------------------------------------
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline long long clock64() { return static_cast<long long>(__rdtsc()); }
inline unsigned long long __globaltimer() { return static_cast<unsigned long long>(__rdtsc()); }
inline void __nanosleep(unsigned, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  cuda_emu::detail::yield("__nanosleep", file, line);
}
[[noreturn]] inline void __trap(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  cuda_emu::detail::kernel_error(file, line, "__trap() executed");
}
[[noreturn]] inline void __brkpt(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  cuda_emu::detail::kernel_error(file, line, "__brkpt() executed");
}
