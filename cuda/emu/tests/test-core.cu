// Emulator core: blocks and indices, static and dynamic shared memory, barriers and their
// reductions, atomics, spin locks; every kernel under the three schedules.
#include <cmath>
#include <numeric>
#include <random>

#include "../../common/gpu-compat.h"
#include "emu-test.h"

using emu_test::DevBuf;

namespace {

// Tree reduction in static shared memory, grid-stride loads, one atomicAdd per block.
template <int B>
__global__ void block_sum(const float* x, float* partial, float* total, int n) {
  __shared__ float s[B];
  float v = 0;
  for (int i = blockIdx.x * B + threadIdx.x; i < n; i += gridDim.x * B) v += x[i];
  s[threadIdx.x] = v;
  __syncthreads();
  for (int o = B / 2; o > 0; o /= 2) {
    if (static_cast<int>(threadIdx.x) < o) s[threadIdx.x] += s[threadIdx.x + o];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    partial[blockIdx.x] = s[0];
    atomicAdd(total, s[0]);
  }
}

// The same with dynamic shared memory and the block size known only at run time.
__global__ void block_sum_dynamic(const float* x, float* partial, int n) {
  CUDA_DYNAMIC_SHARED(float, s);
  const int b = blockDim.x;
  float v = 0;
  for (int i = blockIdx.x * b + threadIdx.x; i < n; i += gridDim.x * b) v += x[i];
  s[threadIdx.x] = v;
  __syncthreads();
  for (int o = b / 2; o > 0; o /= 2) {
    if (static_cast<int>(threadIdx.x) < o) s[threadIdx.x] += s[threadIdx.x + o];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = s[0];
}

TEST_CASE("emu-core: block sum, static and dynamic shared memory, 3 schedules") {
  const int n = 100003;
  std::vector<float> x(n);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (float& v : x) v = dist(rng);
  DevBuf<float> dx(x);
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    const int blocks = 37;
    DevBuf<float> partial(blocks), total(1);
    total.fill(0);
    CHECK(gpu::launch(block_sum<256>, dim3(blocks), dim3(256), 0, nullptr, dx.p, partial.p, total.p, n) == cudaSuccess);
    std::vector<double> ref(blocks, 0.0);
    for (int i = 0; i < n; ++i) ref[(i / 256) % blocks] += x[i];
    const auto got = partial.get();
    double sum = 0;
    for (int b = 0; b < blocks; ++b) {
      CHECK_MSG(std::fabs(got[b] - ref[b]) < 1e-3, "%s block %d: %g vs %g", sch.c_str(), b, got[b], ref[b]);
      sum += ref[b];
    }
    CHECK_MSG(std::fabs(total.get()[0] - sum) < 1e-2, "%s total %g vs %g", sch.c_str(), total.get()[0], sum);

    const int b2 = 64, t2 = 128;
    DevBuf<float> p2(b2);
    CHECK(gpu::launch(block_sum_dynamic, dim3(b2), dim3(t2), t2 * sizeof(float), nullptr, dx.p, p2.p, n) ==
          cudaSuccess);
    std::vector<double> ref2(b2, 0.0);
    for (int i = 0; i < n; ++i) ref2[(i / t2) % b2] += x[i];
    const auto got2 = p2.get();
    for (int b = 0; b < b2; ++b) CHECK_MSG(std::fabs(got2[b] - ref2[b]) < 1e-3, "%s dyn block %d", sch.c_str(), b);
  }
}

// Every thread records its built-in variables.
__global__ void indices(uint4* out) {
  const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned nt = blockDim.x * blockDim.y * blockDim.z;
  out[b * nt + t] = make_uint4(threadIdx.x | threadIdx.y << 10 | threadIdx.z << 20,
                               blockIdx.x | blockIdx.y << 10 | blockIdx.z << 20,
                               blockDim.x | blockDim.y << 10 | blockDim.z << 20,
                               gridDim.x | gridDim.y << 10 | gridDim.z << 20);
}

TEST_CASE("emu-core: 3-D grid and block indices") {
  const dim3 grid(3, 2, 2), block(5, 3, 4);
  const unsigned nt = 60, nb = 12;
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<uint4> out(nt * nb);
    out.fill(0);
    CHECK(gpu::launch(indices, grid, block, 0, nullptr, out.p) == cudaSuccess);
    const auto h = out.get();
    int bad = 0;
    for (unsigned b = 0; b < nb; ++b)
      for (unsigned t = 0; t < nt; ++t) {
        const uint4 v = h[b * nt + t];
        const unsigned tx = t % 5, ty = (t / 5) % 3, tz = t / 15, bx = b % 3, by = (b / 3) % 2, bz = b / 6;
        bad += v.x != (tx | ty << 10 | tz << 20) || v.y != (bx | by << 10 | bz << 20) ||
               v.z != (5u | 3u << 10 | 4u << 20) || v.w != (3u | 2u << 10 | 2u << 20);
      }
    CHECK_MSG(bad == 0, "%s: %d wrong", sch.c_str(), bad);
  }
}

// __syncthreads_count/and/or, twice in a row (the barrier's two generations).
__global__ void barrier_reductions(int* out) {
  const int t = threadIdx.x;
  const int c = __syncthreads_count(t % 3 == 0);
  const int a = __syncthreads_and(t < 1000);
  const int a2 = __syncthreads_and(t != 5);
  const int o = __syncthreads_or(t == 77);
  const int o2 = __syncthreads_or(0);
  if (t == 0) {
    out[0] = c;
    out[1] = a;
    out[2] = a2;
    out[3] = o;
    out[4] = o2;
  }
}

TEST_CASE("emu-core: __syncthreads_count/and/or") {
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<int> out(5);
    CHECK(gpu::launch(barrier_reductions, dim3(2), dim3(100), 0, nullptr, out.p) == cudaSuccess);
    const auto h = out.get();
    CHECK_MSG(h[0] == 34 && h[1] == 1 && h[2] == 0 && h[3] == 1 && h[4] == 0, "%s: %d %d %d %d %d", sch.c_str(), h[0],
              h[1], h[2], h[3], h[4]);
  }
}

// Threads that exit early count as arrived at later barriers (sm_70+).
__global__ void early_exit(int* out) {
  __shared__ int s[64];
  if (threadIdx.x >= 40) return;
  s[threadIdx.x] = threadIdx.x;
  __syncthreads();
  out[threadIdx.x] = s[39 - threadIdx.x];
}

TEST_CASE("emu-core: exited threads count as arrived at barriers") {
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<int> out(40);
    CHECK(gpu::launch(early_exit, dim3(1), dim3(64), 0, nullptr, out.p) == cudaSuccess);
    const auto h = out.get();
    for (int i = 0; i < 40; ++i) CHECK(h[i] == 39 - i);
  }
}

// Atomics of every emulated kind, and a float max through a CAS loop with a relaxed first read.
__global__ void atomics(int* i, unsigned* u, unsigned long long* ull, float* f, int* mx, unsigned* inc, float* fmax) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(i, 1);
  atomicSub(i + 1, 2);
  atomicAdd(u, 3u);
  atomicOr(u + 1, 1u << (t % 32));
  atomicAdd(ull, 1ull << 33);
  atomicAdd(f, 0.5f);
  atomicMax(mx, t * 7 % 1000);
  atomicMin(mx + 1, -t);
  atomicInc(inc, 9u);
  atomicExch(inc + 1, 42u);
  const float v = static_cast<float>((t * 37) % 1001);
  float old = gpu::load_relaxed(fmax);
  while (old < v) {
    const int prev = atomicCAS(reinterpret_cast<int*>(fmax), __float_as_int(old), __float_as_int(v));
    if (prev == __float_as_int(old)) break;
    old = __int_as_float(prev);
  }
}

TEST_CASE("emu-core: atomics") {
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<int> i(2), mx(2);
    DevBuf<unsigned> u(2), inc(2);
    DevBuf<unsigned long long> ull(1);
    DevBuf<float> f(1), fmax(1);
    i.fill(0), u.fill(0), inc.fill(0), ull.fill(0), f.fill(0), mx.fill(0), fmax.fill(0);
    const int n = 3 * 96;
    CHECK(gpu::launch(atomics, dim3(3), dim3(96), 0, nullptr, i.p, u.p, ull.p, f.p, mx.p, inc.p, fmax.p) ==
          cudaSuccess);
    int want_max = 0;
    float want_f = 0;
    for (int t = 0; t < n; ++t) {
      want_max = std::max(want_max, t * 7 % 1000);
      want_f = std::max(want_f, static_cast<float>((t * 37) % 1001));
    }
    CHECK(i.get()[0] == n && i.get()[1] == -2 * n);
    CHECK(u.get()[0] == 3u * n && u.get()[1] == 0xffffffffu);
    CHECK(ull.get()[0] == (1ull << 33) * n);
    CHECK(f.get()[0] == 0.5f * n);
    CHECK(mx.get()[0] == want_max && mx.get()[1] == -(n - 1));
    CHECK(inc.get()[0] == n % 10 && inc.get()[1] == 42u);
    CHECK(fmax.get()[0] == want_f);
  }
}

// An intra-block spin lock: a failed atomicCAS lets the holder run, so it makes progress.
__global__ void spin_lock(int* lock, int* counter) {
  for (int k = 0; k < 3; ++k) {
    while (atomicCAS(lock, 0, 1) != 0) __nanosleep(10);
    const int v = *counter;
    *counter = v + 1;
    atomicExch(lock, 0);
  }
}

TEST_CASE("emu-core: spin lock inside a block makes progress") {
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<int> lock(1), counter(1);
    lock.fill(0), counter.fill(0);
    CHECK(gpu::launch(spin_lock, dim3(2), dim3(64), 0, nullptr, lock.p, counter.p) == cudaSuccess);
    CHECK_MSG(counter.get()[0] == 2 * 64 * 3, "%s: %d", sch.c_str(), counter.get()[0]);
  }
}

// printf from device code is the host's: ordered thread by thread, block by block.
__global__ void printing(int* out) {
  out[blockIdx.x * blockDim.x + threadIdx.x] =
      printf("  kernel printf: block %u thread %u\n", blockIdx.x, threadIdx.x);
}

TEST_CASE("emu-core: printf in a kernel") {
  CHECK(cuda_emu::set_schedule("forward"));
  DevBuf<int> out(4);
  CHECK(gpu::launch(printing, dim3(2), dim3(2), 0, nullptr, out.p) == cudaSuccess);
  std::fflush(stdout);
  const auto h = out.get();
  for (unsigned i = 0; i < 4; ++i)
    CHECK(h[i] == std::snprintf(nullptr, 0, "  kernel printf: block %u thread %u\n", i / 2, i % 2));
}

TEST_CASE("emu-core: round-robin interleaving (+rr) runs the same kernels") {
  const int n = 5000;
  std::vector<float> x(n, 1.0f);
  DevBuf<float> dx(x);
  for (const char* sch : {"forward+rr", "reverse+rr", "random:7+rr"}) {
    CHECK(cuda_emu::set_schedule(sch));
    DevBuf<float> partial(4), total(1);
    total.fill(0);
    CHECK(gpu::launch(block_sum<128>, dim3(4), dim3(128), 0, nullptr, dx.p, partial.p, total.p, n) == cudaSuccess);
    CHECK_MSG(total.get()[0] == static_cast<float>(n), "%s: %g", sch, total.get()[0]);
    DevBuf<int> out(5);
    CHECK(gpu::launch(barrier_reductions, dim3(1), dim3(100), 0, nullptr, out.p) == cudaSuccess);
    CHECK(out.get()[0] == 34);
  }
  CHECK(cuda_emu::set_schedule("forward"));
}

}  // namespace
