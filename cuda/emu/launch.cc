// Kernel launches: validation (limits, dynamic shared memory opt-in, pointer arguments), block
// order, shared-memory poisoning, and the result of the launch (CUDA-EMULATION.md §1.3).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "internal.h"

#if defined(CUDA_EMU_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

// Bounds of the section that holds every static __shared__ variable (cuda-emu.h). Weak: a
// program without shared variables has no such section.
extern "C" unsigned char __start_cuda_emu_smem[] __attribute__((weak));
extern "C" unsigned char __stop_cuda_emu_smem[] __attribute__((weak));

namespace cuda_emu::rt {

cudaError_t check_launch_stream(cudaStream_t s);
void run_block(uint64_t block_linear);

namespace {

std::mutex& launch_mutex() {
  static std::mutex m;
  return m;
}
thread_local bool t_in_launch = false;

// Fills all static shared memory with 0xff. Under ASan the section has redzones between the
// variables (-fsanitize-sections), so this must be an uninstrumented loop, not memset.
__attribute__((no_sanitize_address)) void poison_static_smem() {
  unsigned char* p = __start_cuda_emu_smem;
  unsigned char* end = __stop_cuda_emu_smem;
  if (!p || !end || p >= end) return;
#if defined(CUDA_EMU_ASAN)
  volatile unsigned char* b = p;
  while (reinterpret_cast<uintptr_t>(b) % 8 && b < end) *b++ = 0xff;
  volatile uint64_t* w = reinterpret_cast<volatile uint64_t*>(const_cast<unsigned char*>(b));
  volatile uint64_t* wend = reinterpret_cast<volatile uint64_t*>(end - (reinterpret_cast<uintptr_t>(end) % 8));
  while (w < wend) *w++ = ~uint64_t{0};
  b = reinterpret_cast<volatile unsigned char*>(w);
  while (b < end) *b++ = 0xff;
#else
  std::memset(p, 0xff, static_cast<size_t>(end - p));
#endif
}

std::string dims(dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

cudaError_t invalid(cudaError_t e, const std::string& name, const std::string& why) {
  const std::string msg = "launch of kernel " + name + " refused: " + why;
  set_error(e, msg);
  if (abort_on_error()) {
    std::fprintf(stderr, "cuda-emu: %s\n", msg.c_str());
    std::abort();
  }
  return e;
}

cudaError_t validate(const detail::LaunchDesc& d, const std::string& name) {
  const dim3 b = d.block, g = d.grid;
  const uint64_t threads = uint64_t{b.x} * b.y * b.z;
  if (b.x == 0 || b.y == 0 || b.z == 0 || b.x > 1024 || b.y > 1024 || b.z > 64 || threads > 1024)
    return invalid(cudaErrorInvalidConfiguration, name,
                   "block " + dims(b) + " outside the limits (1024, 1024, 64; 1024 threads)");
  if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > 2147483647u || g.y > 65535 || g.z > 65535)
    return invalid(cudaErrorInvalidConfiguration, name,
                   "grid " + dims(g) + " outside the limits (2^31-1, 65535, 65535)");
  const size_t limit = static_cast<size_t>(max_dynamic_smem(d.kernel));
  if (d.smem > limit) {
    std::string why = std::to_string(d.smem) + " bytes of dynamic shared memory, above the kernel's limit of " +
                      std::to_string(limit);
    if (d.smem <= kOptinSmem && limit == kDefaultSmem)
      why += " (more than 48 KiB needs cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, n))";
    else if (d.smem > kOptinSmem)
      why += " (the device allows at most " + std::to_string(kOptinSmem) + " with opt-in)";
    return invalid(cudaErrorInvalidValue, name, why);
  }
  if (cudaError_t e = check_launch_stream(d.stream)) return invalid(e, name, "not a live stream");
  for (int i = 0; i < d.nptrs; ++i) {
    const void* p = d.ptrs[i].p;
    if (!p) continue;
    const unsigned char* base;
    size_t size;
    if (!find_allocation(p, &base, &size)) {
      char b[32];
      std::snprintf(b, sizeof b, "%p", p);
      return invalid(cudaErrorInvalidValue, name,
                     "pointer argument " + std::to_string(d.ptrs[i].index + 1) + " (" + b +
                         ") is not inside a cudaMalloc allocation (a host pointer, freed memory, or one past the end)");
    }
  }
  return cudaSuccess;
}

}  // namespace
}  // namespace cuda_emu::rt

namespace cuda_emu::detail {

using namespace rt;

cudaError_t launch(const LaunchDesc& d) {
  if (t_in_launch) {
    std::fprintf(stderr, "cuda-emu: kernel launch from inside a kernel (dynamic parallelism) is not emulated\n");
    std::abort();
  }
  const std::string name = symbol_name(d.kernel);
  if (cudaError_t e = validate(d, name)) return e;

  std::lock_guard<std::mutex> lock(launch_mutex());
  t_in_launch = true;
  Sched& s = sched();
  s.launch = &d;
  s.kernel_name = name;
  s.smem_bytes = d.smem;
  s.smem = smem_alloc(d.smem);
  blockDim = d.block;
  gridDim = d.grid;
  s.nthreads = d.block.x * d.block.y * d.block.z;
  ensure_stacks(s.fibers, s.nthreads);
  capture_main(&s.main);
  ++s.launch_ordinal;
  ++g_stats.launches;

  // Block order: forward, reverse or a seeded shuffle of the linear block index.
  const uint64_t nblocks = uint64_t{d.grid.x} * d.grid.y * d.grid.z;
  std::vector<uint64_t> perm;
  if (s.schedule.order == Schedule::kRandom) {
    perm.resize(nblocks);
    for (uint64_t i = 0; i < nblocks; ++i) perm[i] = i;
    uint64_t rng = s.schedule.seed ^ (s.launch_ordinal * 0x9e3779b97f4a7c15ull);
    for (uint64_t i = nblocks; i > 1; --i) {
      rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
      std::swap(perm[i - 1], perm[rng % i]);
    }
  }
  std::string failure;
  for (uint64_t i = 0; i < nblocks; ++i) {
    const uint64_t b = s.schedule.order == Schedule::kForward ? i
                       : s.schedule.order == Schedule::kReverse ? nblocks - 1 - i
                                                                : perm[i];
    blockIdx = uint3{static_cast<unsigned>(b % d.grid.x), static_cast<unsigned>((b / d.grid.x) % d.grid.y),
                     static_cast<unsigned>(b / (uint64_t{d.grid.x} * d.grid.y))};
    poison_static_smem();
    std::memset(s.smem, 0xff, d.smem);
#if defined(CUDA_EMU_TSAN)
    __tsan_release(&g_launch_sync);  // what the host did happens before the block
#endif
    run_block(b);
#if defined(CUDA_EMU_TSAN)
    __tsan_acquire(&g_exit_sync);  // the block happens before the host and the next block
#endif
    ++g_stats.blocks;
    if (s.failed) break;
    const std::string smem_damage = smem_guard_check(s.smem, d.smem);
    if (!smem_damage.empty()) {
      failure = "kernel " + name + " block " + dims(dim3(blockIdx.x, blockIdx.y, blockIdx.z)) + ": " + smem_damage;
      break;
    }
  }
  if (failure.empty() && !s.failed) {
    const std::string damage = check_guards();
    if (!damage.empty()) failure = "kernel " + name + ": " + damage;
  }
  smem_free(s.smem, d.smem);
  s.smem = nullptr;
  s.launch = nullptr;
  threadIdx = uint3{0, 0, 0};
  t_in_launch = false;
  if (!failure.empty()) {
    set_error(cudaErrorLaunchFailure, failure);
    if (abort_on_error()) {
      std::fprintf(stderr, "cuda-emu: %s\n", failure.c_str());
      std::abort();
    }
    return cudaErrorLaunchFailure;
  }
  return s.failed ? cudaErrorLaunchFailure : cudaSuccess;
}

}  // namespace cuda_emu::detail
