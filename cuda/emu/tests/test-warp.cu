// Warp collectives against independent references: shuffles with every width (exact PTX
// semantics, written here from the CUDA programming guide's description), poison for lanes that
// do not take part, votes, match, redux, and the __activemask warp-aggregation idiom.
#include <cmath>
#include <cstring>

#include "../../common/gpu-compat.h"
#include "emu-test.h"

using emu_test::DevBuf;

namespace {

constexpr int kKinds = 4;
constexpr int kWidths[] = {1, 2, 4, 8, 16, 32};
constexpr int kParams[] = {0, 1, 3, 5, 13, 16, 31, 35, -1};

// out[((kind * 6 + w) * 9 + p) * 32 + lane]
__global__ void shuffles(int* out) {
  const int lane = threadIdx.x;
  const int v = 1000 + lane;
  for (int w = 0; w < 6; ++w)
    for (int p = 0; p < 9; ++p) {
      const int width = kWidths[w], b = kParams[p];
      int r[kKinds];
      r[0] = __shfl_sync(0xffffffffu, v, b, width);
      r[1] = __shfl_up_sync(0xffffffffu, v, static_cast<unsigned>(b), width);
      r[2] = __shfl_down_sync(0xffffffffu, v, static_cast<unsigned>(b), width);
      r[3] = __shfl_xor_sync(0xffffffffu, v, b, width);
      for (int k = 0; k < kKinds; ++k) out[((k * 6 + w) * 9 + p) * 32 + lane] = r[k];
    }
}

// The guide: lanes form segments of `width`; idx reads srcLane % width of its segment; up reads
// lane - delta unless that leaves the segment at the bottom; down reads lane + delta unless it
// leaves the segment at the top; xor reads lane ^ mask unless that lies in a later segment
// (earlier segments may be read). Out-of-segment reads return the caller's own value. Shift
// amounts and srcLane use their low 5 bits (PTX b[4:0]).
int expect(int kind, int lane, int width, int b) {
  const int start = lane & ~(width - 1);
  const unsigned d = static_cast<unsigned>(b) & 31u;
  int src = lane;
  switch (kind) {
    case 0: src = start + static_cast<int>(d & static_cast<unsigned>(width - 1)); break;
    case 1: src = lane - static_cast<int>(d) >= start ? lane - static_cast<int>(d) : lane; break;
    case 2: src = lane + static_cast<int>(d) < start + width ? lane + static_cast<int>(d) : lane; break;
    default: src = (lane ^ static_cast<int>(d)) < start + width ? (lane ^ static_cast<int>(d)) : lane; break;
  }
  return 1000 + src;
}

TEST_CASE("emu-warp: shuffles follow PTX shfl.sync for every width and mode") {
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<int> out(kKinds * 6 * 9 * 32);
    CHECK(gpu::launch(shuffles, dim3(1), dim3(32), 0, nullptr, out.p) == cudaSuccess);
    const auto h = out.get();
    int bad = 0;
    for (int k = 0; k < kKinds; ++k)
      for (int w = 0; w < 6; ++w)
        for (int p = 0; p < 9; ++p)
          for (int l = 0; l < 32; ++l) {
            const int got = h[((k * 6 + w) * 9 + p) * 32 + l], want = expect(k, l, kWidths[w], kParams[p]);
            if (got != want && bad++ < 5)
              std::fprintf(stderr, "  kind %d width %d param %d lane %d: %d, expected %d\n", k, kWidths[w], kParams[p],
                           l, got, want);
          }
    CHECK_MSG(bad == 0, "%s: %d wrong shuffle results", sch.c_str(), bad);
  }
}

// Butterfly sum in a block of 48 threads: warp 1 has 16 lanes, so offset 16 reads absent lanes.
__global__ void partial_warp_sum(float* out) {
  float v = 1.0f;
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  out[threadIdx.x] = v;
}

TEST_CASE("emu-warp: reading an absent lane of a partial warp gives poison (NaN)") {
  DevBuf<float> out(48);
  CHECK(gpu::launch(partial_warp_sum, dim3(1), dim3(48), 0, nullptr, out.p) == cudaSuccess);
  const auto h = out.get();
  for (int i = 0; i < 32; ++i) CHECK(h[i] == 32.0f);
  for (int i = 32; i < 48; ++i) CHECK(std::isnan(h[i]));
}

// A 64-bit and a 16-byte value through one shuffle each.
__global__ void wide_shuffles(double* d, float4* f4) {
  const int lane = threadIdx.x;
  d[lane] = __shfl_down_sync(0xffffffffu, 0.5 + lane, 1);
  f4[lane] = __shfl_sync(0xffffffffu, make_float4(lane, lane * 2, lane * 3, lane * 4), 31 - lane);
}

TEST_CASE("emu-warp: 8- and 16-byte shuffles") {
  DevBuf<double> d(32);
  DevBuf<float4> f4(32);
  CHECK(gpu::launch(wide_shuffles, dim3(1), dim3(32), 0, nullptr, d.p, f4.p) == cudaSuccess);
  const auto hd = d.get();
  const auto hf = f4.get();
  for (int l = 0; l < 32; ++l) {
    CHECK(hd[l] == 0.5 + (l < 31 ? l + 1 : l));
    CHECK(hf[l].x == 31 - l && hf[l].w == 4 * (31 - l));
  }
}

// Votes, match and redux over a pattern; results from lane 0 of each warp.
__global__ void votes(unsigned* out) {
  const int lane = threadIdx.x % 32;
  const int pred = lane % 3 == 0;
  const unsigned ballot = __ballot_sync(0xffffffffu, pred);
  const int any = __any_sync(0xffffffffu, lane == 17);
  const int all = __all_sync(0xffffffffu, lane < 32);
  const int none = __any_sync(0xffffffffu, 0);
  const unsigned match = __match_any_sync(0xffffffffu, lane / 8);
  int all_pred = 0;
  const unsigned match_all = __match_all_sync(0xffffffffu, 5, &all_pred);
  const unsigned sum = __reduce_add_sync(0xffffffffu, static_cast<unsigned>(lane));
  const int mn = __reduce_min_sync(0xffffffffu, 10 - lane);
  const unsigned half = lane < 16 ? __ballot_sync(0x0000ffffu, 1) : __ballot_sync(0xffff0000u, lane & 1);
  if (lane == 0 || lane == 20) {
    unsigned* o = out + (threadIdx.x / 32) * 20 + (lane ? 10 : 0);
    o[0] = ballot, o[1] = any, o[2] = all, o[3] = none, o[4] = match, o[5] = match_all, o[6] = all_pred,
    o[7] = sum, o[8] = static_cast<unsigned>(mn), o[9] = half;
  }
}

TEST_CASE("emu-warp: ballot, any, all, match, redux, divergent groups") {
  for (const auto& sch : emu_test::schedules()) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<unsigned> out(40);
    CHECK(gpu::launch(votes, dim3(1), dim3(64), 0, nullptr, out.p) == cudaSuccess);
    const auto h = out.get();
    unsigned ballot = 0;
    for (int l = 0; l < 32; l += 3) ballot |= 1u << l;
    for (int w = 0; w < 2; ++w) {
      const unsigned* o = h.data() + w * 20;
      CHECK(o[0] == ballot && o[1] == 1 && o[2] == 1 && o[3] == 0);
      CHECK(o[4] == 0xffu && o[10 + 4] == 0xff0000u);
      CHECK(o[5] == 0xffffffffu && o[6] == 1);
      CHECK(o[7] == 496 && static_cast<int>(o[8]) == 10 - 31);
      CHECK(o[9] == 0x0000ffffu && o[10 + 9] == 0xaaaa0000u);
    }
  }
}

// Warp-aggregated atomic in a divergent branch: __activemask + __ffs + __shfl_sync(active, ...).
__global__ void compact(const int* in, int n, int* out, int* count) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n && in[i] % 3 != 0) {
    const unsigned active = __activemask();
    const int leader = __ffs(active) - 1;
    const int lane = threadIdx.x % 32;
    int base = 0;
    if (lane == leader) base = atomicAdd(count, __popc(active));
    base = __shfl_sync(active, base, leader);
    out[base + __popc(active & ((1u << lane) - 1))] = in[i];
  }
}

TEST_CASE("emu-warp: __activemask warp aggregation in a divergent branch") {
  const int n = 999;
  std::vector<int> in(n);
  for (int i = 0; i < n; ++i) in[i] = (i * 7919) % 1000;
  std::vector<std::string> all = emu_test::schedules();
  all.push_back("forward+rr");
  all.push_back("random:3+rr");
  for (const auto& sch : all) {
    CHECK(cuda_emu::set_schedule(sch.c_str()));
    DevBuf<int> din(in), out(n), count(1);
    count.fill(0);
    out.fill(0xff);
    CHECK(gpu::launch(compact, dim3((n + 127) / 128), dim3(128), 0, nullptr, din.p, n, out.p, count.p) == cudaSuccess);
    std::vector<int> want;
    for (int v : in)
      if (v % 3 != 0) want.push_back(v);
    const int c = count.get()[0];
    CHECK_MSG(c == static_cast<int>(want.size()), "%s: count %d, expected %zu", sch.c_str(), c, want.size());
    auto got = out.get();
    got.resize(want.size());
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    CHECK_MSG(got == want, "%s: compacted values differ", sch.c_str());
  }
}

}  // namespace
