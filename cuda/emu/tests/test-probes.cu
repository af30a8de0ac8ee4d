// Broken kernels whose report comes from a sanitizer, not from the emulator: ASan/UBSan
// (XLAM_CUDA_EMU_SANITIZE=address,undefined) and TSan mode (=thread). A sanitizer report ends
// or marks the process, so each runs only when selected by name AND CUDA_EMU_PROBE=1 is set, in
// the build it is meant for; cuda/emu/README.md lists the command and the report each must give.
#include <cstdlib>

#include "../../common/gpu-compat.h"
#include "emu-test.h"

using emu_test::DevBuf;

namespace {

bool probe_enabled(bool right_build, const char* build) {
  const char* e = std::getenv("CUDA_EMU_PROBE");
  if (!e || !*e) {
    std::printf("  skipped: a deliberate sanitizer report; run with CUDA_EMU_PROBE=1 in the %s build\n", build);
    return false;
  }
  if (!right_build) {
    std::printf("  skipped: not the %s build\n", build);
    return false;
  }
  return true;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#if defined(__SANITIZE_THREAD__)
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif

// BUG: reads in[n] (i <= n).
__global__ void read_past_end(const float* in, float* out, int n) {
  const int i = threadIdx.x;
  if (i <= n) out[i % n] = in[i];
}

TEST_CASE("probe-asan-global-oob: heap-buffer-overflow in a kernel") {
  if (!probe_enabled(kAsan, "ASan")) return;
  DevBuf<float> in(100), out(100);
  in.fill(0);
  gpu::launch(read_past_end, dim3(1), dim3(128), 0, nullptr, in.p, out.p, 100);
  CHECK_MSG(false, "no ASan report");
}

// BUG: writes one float past the dynamic shared memory.
__global__ void dynamic_smem_past_end(float* out) {
  CUDA_DYNAMIC_SHARED(float, s);
  s[threadIdx.x + 1] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];
}

TEST_CASE("probe-asan-smem-oob: heap-buffer-overflow in dynamic shared memory") {
  if (!probe_enabled(kAsan, "ASan")) return;
  DevBuf<float> out(32);
  gpu::launch(dynamic_smem_past_end, dim3(1), dim3(32), 32 * sizeof(float), nullptr, out.p);
  CHECK_MSG(false, "no ASan report");
}

// BUG: a static shared array indexed one past its end.
__global__ void static_smem_past_end(float* out, int k) {
  __shared__ float s[32];
  s[threadIdx.x + k] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];
}

TEST_CASE("probe-asan-static-smem-oob: UBSan/ASan report on a static shared array") {
  if (!probe_enabled(kAsan, "ASan")) return;
  DevBuf<float> out(32);
  gpu::launch(static_smem_past_end, dim3(1), dim3(32), 0, nullptr, out.p, 1);
  CHECK_MSG(false, "no sanitizer report");
}

// BUG: no __syncthreads() between writing s[t] and reading s[t - 1] (as in test-detectors.cu).
__global__ void missing_barrier(const float* in, float* out) {
  __shared__ float s[256];
  const int t = threadIdx.x;
  s[t] = in[t];
  out[t] = t > 0 ? s[t - 1] : 0.0f;
}

TEST_CASE("probe-tsan-missing-barrier: data race between threads of a block") {
  if (!probe_enabled(kTsan, "TSan")) return;
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<float> in(256), out(256);
    in.fill(0);
    CHECK(gpu::launch(missing_barrier, dim3(1), dim3(256), 0, nullptr, in.p, out.p) == cudaSuccess);
  }
}

// BUG: a non-atomic read-modify-write of one shared counter by every thread. Fibers switch only
// at synchronisation points, so the count is always right here: only TSan mode sees it.
__global__ void shared_counter(int* out) {
  __shared__ int count;
  if (threadIdx.x == 0) count = 0;
  __syncthreads();
  count += 1;
  __syncthreads();
  if (threadIdx.x == 0) *out = count;
}

TEST_CASE("probe-tsan-shared-counter: non-atomic shared counter") {
  if (!probe_enabled(kTsan, "TSan")) return;
  DevBuf<int> out(1);
  CHECK(gpu::launch(shared_counter, dim3(1), dim3(64), 0, nullptr, out.p) == cudaSuccess);
  CHECK(out.get()[0] == 64);
}

}  // namespace
