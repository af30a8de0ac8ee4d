// Kernel-side core of the CUDA emulator: built-in index variables, barriers, warp collectives and
// the entry points into the runtime (scheduler.cc, collectives.cc). Included by cuda-emu.h after
// the toolkit headers; never included directly.
//
// Every function here that synchronises is a switch point: it parks the calling fiber (one CUDA
// thread) and runs another. Call sites are recorded through __builtin_FILE/__builtin_LINE default
// arguments, so diagnostics name the kernel line without any macro.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

// Built-in variables: plain globals the scheduler rewrites at every switch. Switch points are
// opaque calls into the runtime, so the compiler reloads them after each one.
extern uint3 threadIdx;
extern uint3 blockIdx;
extern dim3 blockDim;
extern dim3 gridDim;
// A run-time value in CUDA; code must not depend on it being a constant expression.
constexpr int warpSize = 32;

namespace cuda_emu {

constexpr unsigned kFullMask = 0xffffffffu;

namespace detail {

// Barrier (__syncthreads family). op: 0 plain, 1 count, 2 and, 3 or; returns the reduction.
int barrier(int op, int pred, const char* file, int line);

// A warp collective: every lane of `mask` that has not exited parks here with its own CollOp;
// the last to arrive computes every lane's `out` (collectives.cc).
enum class Coll : uint8_t {
  kShflIdx, kShflUp, kShflDown, kShflXor,
  kBallot, kAny, kAll, kUni,
  kSyncWarp,
  kMatchAny, kMatchAll,
  kReduceAdd, kReduceMin, kReduceMax, kReduceAnd, kReduceOr, kReduceXor,
  kCustom,
};
struct CollOp;
// A custom collective's body: runs once, on the last lane to arrive, with every participating
// lane's CollOp (null for lanes that do not take part) indexed by lane.
using CustomFn = void (*)(CollOp* const* lanes, unsigned participants);
struct CollOp {
  Coll kind;
  bool is_signed;        // kReduceMin/Max on int
  unsigned mask;         // the member mask the lane passed
  int width;             // shuffles: segment width
  int b;                 // shuffles: srcLane / delta / laneMask
  unsigned nwords;       // 32-bit words of the value (1..4)
  uint32_t in[4];        // the lane's value
  uint32_t out[4];       // the lane's result
  CustomFn custom;       // kCustom: the body; also its identity for mismatch checks
  void* arg;             // kCustom: the lane's operands
  const char* name;      // the CUDA function, for diagnostics
  const char* file;
  int line;
};
void collective(CollOp& op);
// __activemask: waits until no lane of the warp can run, then returns the lanes parked at the
// same call site ("maximal convergence", README).
unsigned activemask(const char* file, int line);

// The dynamic shared memory of the running block (exactly the launch's smem bytes).
void* dynamic_shared();
// A failed atomicCAS or __nanosleep: lets other threads of the block run (spin locks progress).
void yield(const char* why, const char* file, int line);
// Something a spinning thread waits for happened (a successful CAS or exchange).
void progress();
// Reports an error in kernel code and unwinds the block: the launch fails with the message.
[[noreturn]] void kernel_error(const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

template <class T>
inline void to_words(const T& v, CollOp& op) {
  static_assert(sizeof(T) <= 16, "warp collectives move at most 16 bytes per call");
  op.nwords = (sizeof(T) + 3) / 4;
  op.in[0] = op.in[1] = op.in[2] = op.in[3] = 0;
  std::memcpy(op.in, static_cast<const void*>(&v), sizeof(T));
}
template <class T>
inline T from_words(const CollOp& op) {
  T v;
  std::memcpy(static_cast<void*>(&v), op.out, sizeof(T));
  return v;
}

// One lane's part in a warp collective over the words of `var`: parks the lane until its group
// completes, then returns the op with the lane's result words.
template <class T>
inline CollOp exchange(Coll kind, const char* name, unsigned mask, const T& var, int b, int width, bool is_signed,
                       const char* file, int line) {
  CollOp op;
  op.kind = kind;
  op.is_signed = is_signed;
  op.mask = mask;
  op.width = width;
  op.b = b;
  to_words(var, op);
  op.custom = nullptr;
  op.arg = nullptr;
  op.name = name;
  op.file = file;
  op.line = line;
  collective(op);
  return op;
}

template <class T>
inline T shfl(Coll kind, const char* name, unsigned mask, const T& var, int b, int width, const char* file,
              int line) {
  return from_words<T>(exchange(kind, name, mask, var, b, width, false, file, line));
}

inline uint32_t simple(Coll kind, const char* name, unsigned mask, uint32_t value, bool is_signed,
                       const char* file, int line) {
  return exchange(kind, name, mask, value, 0, 32, is_signed, file, line).out[0];
}

// A warp-wide custom collective (mma.sync twins, WMMA checks): all lanes of `mask` park with
// `arg`; the last one runs `fn` over all of them.
inline void custom(const char* name, unsigned mask, CustomFn fn, void* arg, const char* file, int line) {
  CollOp op;
  op.kind = Coll::kCustom;
  op.is_signed = false;
  op.mask = mask;
  op.width = 32;
  op.b = 0;
  op.nwords = 0;
  op.custom = fn;
  op.arg = arg;
  op.name = name;
  op.file = file;
  op.line = line;
  collective(op);
}

}  // namespace detail

inline void* dynamic_shared() { return detail::dynamic_shared(); }

// A racy read that is benign by design (the first read of a CAS loop): a relaxed atomic load, so
// TSan mode accepts it. gpu::load_relaxed forwards here.
template <class T>
inline T load_relaxed(const T* p) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8,
                "load_relaxed: 1, 2, 4 or 8 bytes");
  using U = std::conditional_t<sizeof(T) == 1, uint8_t,
                               std::conditional_t<sizeof(T) == 2, uint16_t,
                                                  std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
  U bits = __atomic_load_n(reinterpret_cast<const U*>(p), __ATOMIC_RELAXED);
  T v;
  std::memcpy(static_cast<void*>(&v), &bits, sizeof(T));
  return v;
}

}  // namespace cuda_emu

// --- barriers -------------------------------------------------------------------------------------
inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  cuda_emu::detail::barrier(0, 0, file, line);
}
inline int __syncthreads_count(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return cuda_emu::detail::barrier(1, pred, file, line);
}
inline int __syncthreads_and(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return cuda_emu::detail::barrier(2, pred, file, line);
}
inline int __syncthreads_or(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return cuda_emu::detail::barrier(3, pred, file, line);
}

// --- warp collectives -----------------------------------------------------------------------------
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  cuda_emu::detail::simple(cuda_emu::detail::Coll::kSyncWarp, "__syncwarp", mask, 0, false, file, line);
}
template <class T>
inline T __shfl_sync(unsigned mask, T var, int srcLane, int width = warpSize, const char* file = __builtin_FILE(),
                     int line = __builtin_LINE()) {
  return cuda_emu::detail::shfl(cuda_emu::detail::Coll::kShflIdx, "__shfl_sync", mask, var, srcLane, width, file, line);
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                        const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return cuda_emu::detail::shfl(cuda_emu::detail::Coll::kShflUp, "__shfl_up_sync", mask, var, static_cast<int>(delta),
                                width, file, line);
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                          const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return cuda_emu::detail::shfl(cuda_emu::detail::Coll::kShflDown, "__shfl_down_sync", mask, var,
                                static_cast<int>(delta), width, file, line);
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = warpSize, const char* file = __builtin_FILE(),
                         int line = __builtin_LINE()) {
  return cuda_emu::detail::shfl(cuda_emu::detail::Coll::kShflXor, "__shfl_xor_sync", mask, var, laneMask, width, file,
                                line);
}
inline unsigned __ballot_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return cuda_emu::detail::simple(cuda_emu::detail::Coll::kBallot, "__ballot_sync", mask, pred != 0, false, file, line);
}
inline int __any_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return static_cast<int>(
      cuda_emu::detail::simple(cuda_emu::detail::Coll::kAny, "__any_sync", mask, pred != 0, false, file, line));
}
inline int __all_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return static_cast<int>(
      cuda_emu::detail::simple(cuda_emu::detail::Coll::kAll, "__all_sync", mask, pred != 0, false, file, line));
}
inline int __uni_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return static_cast<int>(
      cuda_emu::detail::simple(cuda_emu::detail::Coll::kUni, "__uni_sync", mask, pred != 0, false, file, line));
}
inline unsigned __activemask(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return cuda_emu::detail::activemask(file, line);
}
template <class T>
inline unsigned __match_any_sync(unsigned mask, T value, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "__match_any_sync: 32- or 64-bit values");
  using cuda_emu::detail::Coll;
  return cuda_emu::detail::exchange(Coll::kMatchAny, "__match_any_sync", mask, value, 0, 32, false, file, line).out[0];
}
template <class T>
inline unsigned __match_all_sync(unsigned mask, T value, int* pred, const char* file = __builtin_FILE(),
                                 int line = __builtin_LINE()) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "__match_all_sync: 32- or 64-bit values");
  using cuda_emu::detail::Coll;
  const unsigned m =
      cuda_emu::detail::exchange(Coll::kMatchAll, "__match_all_sync", mask, value, 0, 32, false, file, line).out[0];
  *pred = m != 0;
  return m;
}

// sm_80 warp reductions (redux.sync).
#define CUDA_EMU_REDUCE(fn, kind, T, is_signed)                                                            \
  inline T fn(unsigned mask, T value, const char* file = __builtin_FILE(), int line = __builtin_LINE()) { \
    return static_cast<T>(cuda_emu::detail::simple(cuda_emu::detail::Coll::kind, #fn, mask,                \
                                                   static_cast<uint32_t>(value), is_signed, file, line)); \
  }
CUDA_EMU_REDUCE(__reduce_add_sync, kReduceAdd, unsigned, false)
CUDA_EMU_REDUCE(__reduce_add_sync, kReduceAdd, int, true)
CUDA_EMU_REDUCE(__reduce_min_sync, kReduceMin, unsigned, false)
CUDA_EMU_REDUCE(__reduce_min_sync, kReduceMin, int, true)
CUDA_EMU_REDUCE(__reduce_max_sync, kReduceMax, unsigned, false)
CUDA_EMU_REDUCE(__reduce_max_sync, kReduceMax, int, true)
CUDA_EMU_REDUCE(__reduce_and_sync, kReduceAnd, unsigned, false)
CUDA_EMU_REDUCE(__reduce_or_sync, kReduceOr, unsigned, false)
CUDA_EMU_REDUCE(__reduce_xor_sync, kReduceXor, unsigned, false)
#undef CUDA_EMU_REDUCE
