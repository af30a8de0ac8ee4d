// CUDA atomics for the emulated build, on real __atomic builtins: relaxed, or acquire/release when
// the kernel is compiled for ThreadSanitizer (TSan ignores stand-alone fences, so a correct
// "relaxed atomic + __threadfence" protocol would otherwise be reported; CUDA-EMULATION.md §5.3).
// Only the overloads CUDA declares exist, so code that compiles here also compiles with nvcc.
// A failed atomicCAS is a switch point (other threads run), so intra-block spin locks progress.
#pragma once
#include <cstdint>
#include <cstring>

#include "device.h"

namespace cuda_emu::detail {
#if defined(__SANITIZE_THREAD__)
constexpr int kRmwOrder = __ATOMIC_ACQ_REL;
constexpr int kLoadOrder = __ATOMIC_ACQUIRE;
#else
constexpr int kRmwOrder = __ATOMIC_RELAXED;
constexpr int kLoadOrder = __ATOMIC_RELAXED;
#endif

// Read-modify-write of any 2-, 4- or 8-byte value through a CAS loop on its bits: the float, half
// and min/max forms. Returns the old value.
template <class T, class F>
inline T atomic_update(T* addr, F f) {
  using U = std::conditional_t<sizeof(T) == 2, uint16_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>;
  static_assert(sizeof(T) == sizeof(U), "2, 4 or 8 bytes");
  U* p = reinterpret_cast<U*>(addr);
  U old_bits = __atomic_load_n(p, kLoadOrder);
  for (;;) {
    T old_v;
    std::memcpy(static_cast<void*>(&old_v), &old_bits, sizeof(T));
    const T new_v = f(old_v);
    U new_bits;
    std::memcpy(&new_bits, static_cast<const void*>(&new_v), sizeof(T));
    if (__atomic_compare_exchange_n(p, &old_bits, new_bits, false, kRmwOrder, kLoadOrder)) return old_v;
  }
}

template <class T>
inline T atomic_cas(T* addr, T compare, T val, const char* file, int line) {
  T expected = compare;
  if (__atomic_compare_exchange_n(addr, &expected, val, false, kRmwOrder, kLoadOrder)) {
    progress();
  } else {
    yield("atomicCAS", file, line);
  }
  return expected;
}
}  // namespace cuda_emu::detail

#define CUDA_EMU_FETCH(name, builtin, T)                                   \
  inline T name(T* address, T val) {                                     \
    return builtin(address, val, cuda_emu::detail::kRmwOrder);           \
  }                                                                        \
  inline T name##_block(T* address, T val) { return name(address, val); } \
  inline T name##_system(T* address, T val) { return name(address, val); }
CUDA_EMU_FETCH(atomicAdd, __atomic_fetch_add, int)
CUDA_EMU_FETCH(atomicAdd, __atomic_fetch_add, unsigned)
CUDA_EMU_FETCH(atomicAdd, __atomic_fetch_add, unsigned long long)
CUDA_EMU_FETCH(atomicSub, __atomic_fetch_sub, int)
CUDA_EMU_FETCH(atomicSub, __atomic_fetch_sub, unsigned)
CUDA_EMU_FETCH(atomicAnd, __atomic_fetch_and, int)
CUDA_EMU_FETCH(atomicAnd, __atomic_fetch_and, unsigned)
CUDA_EMU_FETCH(atomicAnd, __atomic_fetch_and, unsigned long long)
CUDA_EMU_FETCH(atomicOr, __atomic_fetch_or, int)
CUDA_EMU_FETCH(atomicOr, __atomic_fetch_or, unsigned)
CUDA_EMU_FETCH(atomicOr, __atomic_fetch_or, unsigned long long)
CUDA_EMU_FETCH(atomicXor, __atomic_fetch_xor, int)
CUDA_EMU_FETCH(atomicXor, __atomic_fetch_xor, unsigned)
CUDA_EMU_FETCH(atomicXor, __atomic_fetch_xor, unsigned long long)
#undef CUDA_EMU_FETCH

#define CUDA_EMU_UPDATE(name, T, expr)                                                        \
  inline T name(T* address, T val) {                                                        \
    return cuda_emu::detail::atomic_update(address, [val](T old) -> T { return expr; });    \
  }                                                                                           \
  inline T name##_block(T* address, T val) { return name(address, val); }                    \
  inline T name##_system(T* address, T val) { return name(address, val); }
CUDA_EMU_UPDATE(atomicAdd, float, old + val)
CUDA_EMU_UPDATE(atomicAdd, double, old + val)
CUDA_EMU_UPDATE(atomicAdd, __half, __float2half(__half2float(old) + __half2float(val)))
CUDA_EMU_UPDATE(atomicAdd, __nv_bfloat16, __float2bfloat16(__bfloat162float(old) + __bfloat162float(val)))
CUDA_EMU_UPDATE(atomicAdd, __half2,
                __floats2half2_rn(__low2float(old) + __low2float(val), __high2float(old) + __high2float(val)))
CUDA_EMU_UPDATE(atomicAdd, __nv_bfloat162,
                __floats2bfloat162_rn(__low2float(old) + __low2float(val), __high2float(old) + __high2float(val)))
CUDA_EMU_UPDATE(atomicMin, int, val < old ? val : old)
CUDA_EMU_UPDATE(atomicMin, unsigned, val < old ? val : old)
CUDA_EMU_UPDATE(atomicMin, long long, val < old ? val : old)
CUDA_EMU_UPDATE(atomicMin, unsigned long long, val < old ? val : old)
CUDA_EMU_UPDATE(atomicMax, int, val > old ? val : old)
CUDA_EMU_UPDATE(atomicMax, unsigned, val > old ? val : old)
CUDA_EMU_UPDATE(atomicMax, long long, val > old ? val : old)
CUDA_EMU_UPDATE(atomicMax, unsigned long long, val > old ? val : old)
// atomicInc/Dec wrap at val as CUDA defines: inc: (old >= val) ? 0 : old + 1;
// dec: (old == 0 || old > val) ? val : old - 1.
CUDA_EMU_UPDATE(atomicInc, unsigned, old >= val ? 0u : old + 1u)
CUDA_EMU_UPDATE(atomicDec, unsigned, (old == 0u || old > val) ? val : old - 1u)
#undef CUDA_EMU_UPDATE

// Exchange: progress for spin-lock releases.
#define CUDA_EMU_EXCH(T)                                                                               \
  inline T atomicExch(T* address, T val) {                                                            \
    T old = cuda_emu::detail::atomic_update(address, [val](T) -> T { return val; });                  \
    cuda_emu::detail::progress();                                                                       \
    return old;                                                                                         \
  }                                                                                                     \
  inline T atomicExch_block(T* address, T val) { return atomicExch(address, val); }                    \
  inline T atomicExch_system(T* address, T val) { return atomicExch(address, val); }
CUDA_EMU_EXCH(int)
CUDA_EMU_EXCH(unsigned)
CUDA_EMU_EXCH(unsigned long long)
CUDA_EMU_EXCH(float)
#undef CUDA_EMU_EXCH

#define CUDA_EMU_CAS(T)                                                                                  \
  inline T atomicCAS(T* address, T compare, T val, const char* file = __builtin_FILE(),                 \
                     int line = __builtin_LINE()) {                                                      \
    return cuda_emu::detail::atomic_cas(address, compare, val, file, line);                              \
  }                                                                                                      \
  inline T atomicCAS_block(T* address, T compare, T val, const char* file = __builtin_FILE(),           \
                           int line = __builtin_LINE()) {                                                \
    return cuda_emu::detail::atomic_cas(address, compare, val, file, line);                              \
  }                                                                                                      \
  inline T atomicCAS_system(T* address, T compare, T val, const char* file = __builtin_FILE(),          \
                            int line = __builtin_LINE()) {                                               \
    return cuda_emu::detail::atomic_cas(address, compare, val, file, line);                              \
  }
CUDA_EMU_CAS(int)
CUDA_EMU_CAS(unsigned)
CUDA_EMU_CAS(unsigned long long)
CUDA_EMU_CAS(unsigned short)
#undef CUDA_EMU_CAS
