// Switch cost: a kernel that only synchronises, timed per context switch (README figure).
// Prints the figures; fails only if a switch costs more than 2 us (something badly wrong).
// Timed in CPU time of the thread: the machine is shared, wall time would count other work.
#include <time.h>

#include "../../common/gpu-compat.h"
#include "emu-test.h"

namespace {

__global__ void barrier_loop(int iters, int* sink) {
  int v = 0;
  for (int i = 0; i < iters; ++i) {
    v += i;
    __syncthreads();
  }
  if (v == -1) *sink = v;
}

__global__ void shuffle_loop(int iters, int* sink) {
  unsigned v = threadIdx.x;
  for (int i = 0; i < iters; ++i) v += __shfl_xor_sync(0xffffffffu, v, i & 31);
  if (v == 1) *sink = static_cast<int>(v);
}

__global__ void empty_kernel() {}

// Sanity bound on a switch; TSan's vector clocks grow with the block (microseconds per switch).
#if defined(__SANITIZE_THREAD__)
constexpr double kMaxNs = 1e6;
#else
constexpr double kMaxNs = 2000;
#endif

double cpu_ns() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

template <class F>
double ns_per_switch(F run) {
  cuda_emu::reset_stats();
  const double t0 = cpu_ns();
  run();
  return (cpu_ns() - t0) / static_cast<double>(cuda_emu::stats().switches);
}

TEST_CASE("emu-bench: context switch cost") {
  CHECK(cuda_emu::set_schedule("forward"));
  emu_test::DevBuf<int> sink(1);
  for (int threads : {32, 1024}) {
    const double ns = ns_per_switch([&] {
      CHECK(gpu::launch(barrier_loop, dim3(1), dim3(threads), 0, nullptr, 1000, sink.p) == cudaSuccess);
    });
    std::printf("  __syncthreads x1000, block %4d: %6.1f ns per switch\n", threads, ns);
    CHECK(ns < kMaxNs);
  }
  const double ns = ns_per_switch([&] {
    CHECK(gpu::launch(shuffle_loop, dim3(1), dim3(256), 0, nullptr, 1000, sink.p) == cudaSuccess);
  });
  std::printf("  __shfl_xor_sync x1000, block  256: %6.1f ns per switch\n", ns);
  CHECK(ns < kMaxNs);
  for (int threads : {128, 1024}) {
    const double t0 = cpu_ns();
    CHECK(gpu::launch(empty_kernel, dim3(200), dim3(threads), 0, nullptr) == cudaSuccess);
    std::printf("  empty kernel, block %4d: %6.1f us per block\n", threads, (cpu_ns() - t0) / 1e3 / 200);
  }
}

}  // namespace
