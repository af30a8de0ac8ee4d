// One deliberately broken kernel per detector (cuda/emu/README.md, "Detectors"). Each test
// requires the detector's report: a launch error whose message names the bug and its call site,
// poisoned values, or wrong values under at least one schedule. Every failure must leave the
// emulator usable: each test launches a correct kernel afterwards.
//
// Bugs whose report comes from a sanitizer are in test-probes.cu.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <string>

#include "../../common/gpu-compat.h"
#include "emu-test.h"

using emu_test::DevBuf;
using emu_test::message_has;

namespace {

// "test-detectors.cu:<line>": how a report names a call site of this file.
bool names_line(int line) { return message_has(("test-detectors.cu:" + std::to_string(line)).c_str()); }

// A correct kernel with barriers and shuffles: the emulator still works after a failure.
__global__ void healthy(int* out) {
  __shared__ int s[64];
  s[threadIdx.x] = threadIdx.x;
  __syncthreads();
  const int v = __shfl_xor_sync(0xffffffffu, s[63 - threadIdx.x], 1);
  out[threadIdx.x] = v;
}

void expect_healthy() {
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<int> out(64);
    CHECK(gpu::launch(healthy, dim3(2), dim3(64), 0, nullptr, out.p) == cudaSuccess);
    const auto h = out.get();
    for (int t = 0; t < 64; ++t) CHECK(h[t] == 63 - (t ^ 1));
  }
  cudaGetLastError();
}

// BUG: no __syncthreads() between writing s[t] and reading s[t - 1].
[[maybe_unused]] __global__ void missing_barrier(const float* in, float* out) {
  __shared__ float s[256];
  const int t = threadIdx.x;
  s[t] = in[t];
  out[t] = t > 0 ? s[t - 1] : 0.0f;
}

TEST_CASE("emu-detect: missing barrier gives wrong values under at least one schedule") {
#if defined(__SANITIZE_THREAD__)
  std::printf("  skipped in the TSan build: the race is probe-tsan-missing-barrier's report\n");
#else
  std::vector<float> in(256);
  for (int i = 0; i < 256; ++i) in[i] = static_cast<float>(i);
  DevBuf<float> din(in), out(256);
  int wrong_schedules = 0;
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    CHECK(gpu::launch(missing_barrier, dim3(1), dim3(256), 0, nullptr, din.p, out.p) == cudaSuccess);
    const auto h = out.get();
    int wrong = 0;
    for (int t = 1; t < 256; ++t) wrong += h[t] != static_cast<float>(t - 1);
    std::printf("  %-13s %3d/255 wrong\n", sch.c_str(), wrong);
    wrong_schedules += wrong > 0;
  }
  CHECK(wrong_schedules >= 1);
#endif
}

// BUG: __syncthreads() in both branches of an if: two barriers, never met by all threads.
constexpr int kDivergentA = __LINE__ + 4;
constexpr int kDivergentB = __LINE__ + 6;
__global__ void divergent_barrier(int* out) {
  if (threadIdx.x % 2) {
    __syncthreads();
    out[0] = 1;
  } else {
    __syncthreads();
    out[1] = 1;
  }
}

TEST_CASE("emu-detect: divergent barrier") {
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<int> out(2);
    CHECK(gpu::launch(divergent_barrier, dim3(3), dim3(64), 0, nullptr, out.p) == cudaErrorLaunchFailure);
    CHECK_MSG(message_has("divergent barrier") && names_line(kDivergentA) &&
                  names_line(kDivergentB) && message_has("divergent_barrier"),
              "%s: %s", sch.c_str(), cuda_emu::last_error_message());
    CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
  }
  expect_healthy();
}

// BUG: half the warp shuffles, the other half votes.
constexpr int kMismatched = __LINE__ + 3;
__global__ void mismatched_collectives(int* out) {
  const int lane = threadIdx.x;
  const int r = lane < 16 ? __shfl_xor_sync(0xffffffffu, lane, 1) : static_cast<int>(__ballot_sync(0xffffffffu, 1));
  out[lane] = r;
}

// BUG: the mask names only lanes 0-15 but all 32 lanes call.
__global__ void wrong_mask(int* out) { out[threadIdx.x] = __shfl_sync(0x0000ffffu, static_cast<int>(threadIdx.x), 0); }

// BUG: width 12 is not a power of two.
__global__ void bad_width(int* out) { out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1, 1, 12); }

// BUG: lanes pass different masks to the same shuffle.
__global__ void different_masks(int* out) {
  const unsigned mask = threadIdx.x == 5 ? 0x0000ffffu : 0xffffffffu;
  out[threadIdx.x] = __shfl_down_sync(mask, 1, 1);
}

TEST_CASE("emu-detect: mismatched warp collectives and wrong masks") {
  DevBuf<int> out(32);
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    CHECK(gpu::launch(mismatched_collectives, dim3(1), dim3(32), 0, nullptr, out.p) == cudaErrorLaunchFailure);
    CHECK_MSG(message_has("mismatched warp collective") && message_has("__shfl_xor_sync") &&
                  message_has("__ballot_sync") && names_line(kMismatched),
              "%s: %s", sch.c_str(), cuda_emu::last_error_message());
    CHECK(gpu::launch(wrong_mask, dim3(1), dim3(32), 0, nullptr, out.p) == cudaErrorLaunchFailure);
    CHECK_MSG(message_has("does not include the calling lane"), "%s", cuda_emu::last_error_message());
    CHECK(gpu::launch(bad_width, dim3(1), dim3(32), 0, nullptr, out.p) == cudaErrorLaunchFailure);
    CHECK_MSG(message_has("width 12"), "%s", cuda_emu::last_error_message());
    const cudaError_t e = gpu::launch(different_masks, dim3(1), dim3(32), 0, nullptr, out.p);
    CHECK(e == cudaErrorLaunchFailure);
    CHECK_MSG(message_has("mismatched warp collective") || message_has("does not include"), "%s",
              cuda_emu::last_error_message());
  }
  expect_healthy();
}

// BUG: lanes 0-15 in a full-mask shuffle, lanes 16-31 at a block barrier: nobody can continue.
constexpr int kDeadlockShfl = __LINE__ + 5;
constexpr int kDeadlockBar = __LINE__ + 6;
__global__ void deadlock(int* out) {
  const int lane = threadIdx.x;
  if (lane < 16)
    out[lane] = __shfl_sync(0xffffffffu, lane, 0);
  else
    __syncthreads();
}

TEST_CASE("emu-detect: deadlock") {
  DevBuf<int> out(32);
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    CHECK(gpu::launch(deadlock, dim3(1), dim3(32), 0, nullptr, out.p) == cudaErrorLaunchFailure);
    CHECK_MSG(message_has("deadlock") && message_has("16 thread(s)") && names_line(kDeadlockShfl) &&
                  names_line(kDeadlockBar) && message_has("__syncthreads"),
              "%s: %s", sch.c_str(), cuda_emu::last_error_message());
  }
  expect_healthy();
}

// BUG: block 0 waits for a flag that block 1 sets (blocks are not co-resident by contract).
constexpr int kSpin = __LINE__ + 6;
__global__ void wait_for_other_block(int* flag) {
  if (blockIdx.x == 1) {
    atomicExch(flag, 1);
    return;
  }
  while (atomicCAS(flag, 1, 1) != 1) {
  }
}

TEST_CASE("emu-detect: spin wait on another block") {
  DevBuf<int> flag(1);
  CHECK(cuda_emu::set_schedule("forward"));
  flag.fill(0);
  CHECK(gpu::launch(wait_for_other_block, dim3(2), dim3(1), 0, nullptr, flag.p) == cudaErrorLaunchFailure);
  CHECK_MSG(message_has("spins forever") && names_line(kSpin), "%s",
            cuda_emu::last_error_message());
  CHECK(cuda_emu::set_schedule("reverse"));  // block 1 first: the same kernel passes by luck
  flag.fill(0);
  CHECK(gpu::launch(wait_for_other_block, dim3(2), dim3(1), 0, nullptr, flag.p) == cudaSuccess);
  expect_healthy();
}

// BUG: reads shared memory nobody wrote (lanes 32-63), and block 1 reads what block 0 wrote.
__global__ void uninitialised_shared(float* out, int* iout) {
  __shared__ float s[64];
  __shared__ int si[64];
  if (threadIdx.x < 32 && blockIdx.x == 0) {
    s[threadIdx.x] = 1.0f;
    si[threadIdx.x] = 1;
  }
  __syncthreads();
  out[blockIdx.x * 64 + threadIdx.x] = s[threadIdx.x];
  iout[blockIdx.x * 64 + threadIdx.x] = si[threadIdx.x];
}

TEST_CASE("emu-detect: uninitialised shared memory reads as poison, per block") {
  CHECK(cuda_emu::set_schedule("forward"));
  DevBuf<float> out(128);
  DevBuf<int> iout(128);
  CHECK(gpu::launch(uninitialised_shared, dim3(2), dim3(64), 0, nullptr, out.p, iout.p) == cudaSuccess);
  const auto h = out.get();
  const auto hi = iout.get();
  for (int i = 0; i < 128; ++i) {
    const bool written = i < 32;
    CHECK_MSG(written ? h[i] == 1.0f : std::isnan(h[i]), "index %d: %g", i, h[i]);
    CHECK_MSG(written ? hi[i] == 1 : hi[i] == -1, "index %d: %d", i, hi[i]);
  }
}

__global__ void fill(float* p, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = 1.0f;
}

TEST_CASE("emu-detect: host pointer and one-past-the-end pointer arguments") {
  std::vector<float> host(64);
  CHECK(gpu::launch(fill, dim3(1), dim3(64), 0, nullptr, host.data(), 64) == cudaErrorInvalidValue);
  CHECK_MSG(message_has("pointer argument 1") && message_has("not inside a cudaMalloc allocation") &&
                message_has("fill"),
            "%s", cuda_emu::last_error_message());
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  DevBuf<float> d(64);
  CHECK(gpu::launch(fill, dim3(1), dim3(64), 0, nullptr, d.p + 64, 0) == cudaErrorInvalidValue);
  CHECK(gpu::launch(fill, dim3(1), dim3(64), 0, nullptr, d.p + 63, 1) == cudaSuccess);
  CHECK(gpu::launch(fill, dim3(1), dim3(64), 0, nullptr, static_cast<float*>(nullptr), 0) == cudaSuccess);
  cudaGetLastError();
}

__global__ void big_smem(float* out) {
  CUDA_DYNAMIC_SHARED(float, s);
  s[threadIdx.x * 1000] = threadIdx.x;
  __syncthreads();
  out[threadIdx.x] = s[(15 - threadIdx.x) * 1000];
}

TEST_CASE("emu-detect: dynamic shared memory above 48 KiB needs the opt-in") {
  DevBuf<float> out(16);
  const size_t bytes = 64 * 1024;
  CHECK(gpu::launch(big_smem, dim3(1), dim3(16), bytes, nullptr, out.p) == cudaErrorInvalidValue);
  CHECK_MSG(message_has("cudaFuncAttributeMaxDynamicSharedMemorySize"), "%s", cuda_emu::last_error_message());
  CHECK(cudaFuncSetAttribute(big_smem, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)) ==
        cudaSuccess);
  CHECK(gpu::launch(big_smem, dim3(1), dim3(16), bytes, nullptr, out.p) == cudaSuccess);
  CHECK(out.get()[3] == 12.0f);
  CHECK(gpu::launch(big_smem, dim3(1), dim3(16), bytes + 4, nullptr, out.p) == cudaErrorInvalidValue);
  CHECK(cudaFuncSetAttribute(big_smem, cudaFuncAttributeMaxDynamicSharedMemorySize, 240 * 1024) ==
        cudaErrorInvalidValue);
  CHECK(gpu::launch(big_smem, dim3(1), dim3(1025), 0, nullptr, out.p) == cudaErrorInvalidConfiguration);
  CHECK(gpu::launch(big_smem, dim3(1, 70000), dim3(16), 0, nullptr, out.p) == cudaErrorInvalidConfiguration);
  cudaGetLastError();
}

// BUG: i <= n writes one element past the end.
[[maybe_unused]] __global__ void write_past_end(float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) out[i] = 1.0f;
}

// BUG: one float past the dynamic shared memory.
[[maybe_unused]] __global__ void smem_past_end(float* out) {
  CUDA_DYNAMIC_SHARED(float, s);
  s[threadIdx.x + 1] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];
}

TEST_CASE("emu-detect: out-of-bounds writes fail the launch (guard bytes; ASan in its build)") {
#if defined(__SANITIZE_ADDRESS__)
  std::printf("  skipped in the ASan build: these are probe-asan-*'s reports\n");
#else
  DevBuf<float> out(100);
  CHECK(gpu::launch(write_past_end, dim3(1), dim3(128), 0, nullptr, out.p, 100) == cudaErrorLaunchFailure);
  CHECK_MSG(message_has("out-of-bounds write past the end of the cudaMalloc allocation") && message_has("400 bytes") &&
                message_has("write_past_end"),
            "%s", cuda_emu::last_error_message());
  CHECK(gpu::launch(write_past_end, dim3(1), dim3(128), 0, nullptr, out.p, 99) == cudaSuccess);
  CHECK(gpu::launch(smem_past_end, dim3(1), dim3(32), 32 * sizeof(float), nullptr, out.p) == cudaErrorLaunchFailure);
  CHECK_MSG(message_has("dynamic shared memory"), "%s", cuda_emu::last_error_message());
  expect_healthy();
#endif
}

TEST_CASE("emu-detect: CUDA_EMU_ABORT=1 aborts at the first error") {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  std::printf("  skipped under sanitizers (fork)\n");
#else
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("CUDA_EMU_ABORT", "1", 1);
    int* p = nullptr;
    cudaMalloc(reinterpret_cast<void**>(&p), 8);
    freopen("/dev/null", "w", stderr);
    gpu::launch(divergent_barrier, dim3(1), dim3(64), 0, nullptr, p);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
#endif
}

}  // namespace
