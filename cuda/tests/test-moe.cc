// The MoE ops on CUDA (emulated) against the CPU reference op: moe_route (ids compared exactly,
// including ties and near-ties) and moe_experts (sort + grouped GEMM + combine) with 8 experts top-1
// and top-2 and 4 experts top-2, experts that receive no token, 1 / 3 / 113 tokens, n_embd 72 and
// n_ff 200 / 113 (element-load path), weights f32 / f16 / bf16, tensor cores (cc 80) and SIMT
// (cc 75), every schedule, guard bytes; bitwise batch invariance; chunks of tokens over the scratch
// budget, bitwise equal to one pass; expert ids out of range.
//
// Error bounds (normalized error; the reference runs the experts' matmuls in f64):
//   moe_route weights 1e-15: the same f32 steps as the CPU op, exp correctly rounded on both sides
//     but for rare glibc expf misroundings (one ulp in one weight of a 113-token batch: ~1e-17);
//     measured 0. An f32 expf with its ulp errors everywhere lands near 1e-14; ids exactly equal.
//   moe_experts 2e-12: two f32-accurate GEMMs (see test-dense.cc: ~1e-14 each on tensor cores,
//     f32 FMA chains on SIMT) with f32 silu-mul between them and an f32 weighted sum; measured up to
//     4.6e-14 (mma) and 1.6e-13 (SIMT).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../../native/tests/check.h"
#include "../moe.h"
#if defined(CUDA_EMU)
#include "../emu/api.h"
#endif
#include "op-test.h"

namespace xlam::cuda_test {
namespace {

constexpr double kBoundRouteWeights = 1e-15, kBoundExperts = 2e-12;

// ---- moe_route ------------------------------------------------------------------------------------

// Logits with ties and near-ties among ordinary random rows.
std::vector<float> route_logits(int64_t n, int64_t n_exp, uint32_t seed) {
  std::vector<float> lg = randn(static_cast<size_t>(n * n_exp), seed, 2.0f);
  for (int64_t t = 0; t < n; ++t) {
    float* row = lg.data() + t * n_exp;
    switch (t % 6) {
      case 1:  // all equal: ids 0, 1, ...
        std::fill(row, row + n_exp, 0.25f);
        break;
      case 2:  // two equal maxima at the end
        row[n_exp - 1] = row[n_exp - 2] = 9.0f;
        break;
      case 3:  // one ulp apart
        row[0] = 3.0f;
        row[n_exp - 1] = std::nextafter(3.0f, 4.0f);
        break;
      case 4:  // large magnitudes and -inf
        row[0] = 80.0f;
        row[1] = -80.0f;
        row[n_exp - 1] = -INFINITY;
        break;
      default:
        break;
    }
  }
  return lg;
}

TEST_CASE("moe: moe_route 1/3/113 tokens x {8 experts top-1, top-2, top-8; 4 experts top-2}, ties, one-ulp "
          "near-ties, +-80 and -inf logits, ids exact, 3 schedules, seed 71") {
  WorstError worst;
  struct Case {
    int64_t n_exp, k;
  };
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    for (const Case cs : {Case{8, 1}, Case{8, 2}, Case{8, 8}, Case{4, 2}})
      for (int64_t n : {1, 3, 113}) {
        const std::vector<float> lg = route_logits(n, cs.n_exp, 71 + static_cast<uint32_t>(n));
        Oracle o;
        Tensor rids = o.i32({n, cs.k}, std::vector<int32_t>(static_cast<size_t>(n * cs.k)));
        Tensor rw = o.f32({n, cs.k}, std::vector<float>(static_cast<size_t>(n * cs.k)));
        CHECK(o.be.moe_route(rids, rw, o.f32({n, cs.n_exp}, lg)).ok());
        char buf[160];
        std::snprintf(buf, sizeof buf, "moe_route n%lld experts%lld top%lld sched=%s seed=%u",
                      static_cast<long long>(n),
                      static_cast<long long>(cs.n_exp), static_cast<long long>(cs.k), sched.c_str(),
                      71 + static_cast<unsigned>(n));
        Ctx c(80);
        DevTensor dl = dev_f32({n, cs.n_exp}, lg), dids = dev(DType::kI32, {n, cs.k}), dw = dev(DType::kF32, {n, cs.k});
        expect_ok(cuda::moe_route(c.ctx, dids.t, dw.t, dl.t), buf);
        expect_equal(read_i32(dids), o.read_i32(rids), buf);
        worst.close(read_f32(dw), o.read_f32(rw), kBoundRouteWeights, buf, "moe_route weights");
        expect_guards({&dl, &dids, &dw}, buf);
      }
  }
}

// ---- the sort (integer outputs, compared exactly) -------------------------------------------------

TEST_CASE("moe: moe_sort, stable and padded: 1/6/226/601 entries x 8/4 experts x tile rows 8/16/64, ids out of "
          "range left out, sorted list / positions / tile experts exact, 3 schedules, seed 87") {
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    for (int n : {1, 6, 226, 601})
      for (int n_exp : {8, 4})
        for (int tile_rows : {8, 16, 64}) {
          std::mt19937 rng(87 + n + n_exp + tile_rows);
          std::vector<int32_t> ids(static_cast<size_t>(n));
          for (int32_t& e : ids) e = static_cast<int32_t>(rng() % (n_exp + 1)) - (rng() % 7 == 0 ? 2 : 0);
          if (n > 5) ids[5] = INT32_MIN;
          // The expected result: a stable counting sort, each expert's run padded to tile_rows.
          const int max_tiles = static_cast<int>(cuda::moe_max_tiles(n, n_exp, tile_rows));
          std::vector<int32_t> sorted(static_cast<size_t>(max_tiles) * tile_rows, -1), pos(static_cast<size_t>(n), -1),
              tiles(static_cast<size_t>(max_tiles), -1);
          int row = 0;
          for (int e = 0; e < n_exp; ++e) {
            const int first = row;
            for (int i = 0; i < n; ++i)
              if (ids[i] == e) {
                sorted[row] = i;
                pos[i] = row++;
              }
            row = first + (row - first + tile_rows - 1) / tile_rows * tile_rows;
            for (int t = first / tile_rows; t < row / tile_rows; ++t) tiles[t] = e;
          }
          char what[160];
          std::snprintf(what, sizeof what, "moe_sort n%d experts%d tile%d sched=%s seed=%d", n, n_exp, tile_rows,
                        sched.c_str(), 87 + n + n_exp + tile_rows);
          DevTensor di = dev_i32({n}, ids), ds = dev(DType::kI32, {static_cast<int64_t>(sorted.size())});
          DevTensor dp = dev(DType::kI32, {n}), dt = dev(DType::kI32, {max_tiles});
          const cudaError_t err =
              cuda::moe_sort(static_cast<int32_t*>(ds.t.data), static_cast<int32_t*>(dp.t.data),
                             static_cast<int32_t*>(dt.t.data), static_cast<const int32_t*>(di.t.data), n, n_exp,
                             tile_rows, max_tiles, nullptr);
          expect_ok(cuda::launch_status(err, "moe_sort"), what);
          expect_equal(read_i32(ds), sorted, std::string(what) + " sorted");
          expect_equal(read_i32(dp), pos, std::string(what) + " pos");
          expect_equal(read_i32(dt), tiles, std::string(what) + " tile experts");
          expect_guards({&di, &ds, &dp, &dt}, what);
        }
  }
}

// ---- moe_experts ----------------------------------------------------------------------------------

struct MoeCase {
  int64_t n, d, ff, n_exp, k;
  DType w;
};

struct MoeData {
  std::vector<float> x, wts;
  std::vector<int32_t> ids;
  std::vector<std::vector<float>> w1, w3, w2;
};

// k distinct experts per token, never expert n_exp - 2 (it gets no token), skewed towards low ids.
MoeData moe_data(const MoeCase& mc, uint32_t seed) {
  MoeData m;
  m.x = randn(static_cast<size_t>(mc.n * mc.d), seed);
  std::mt19937 rng(seed + 1);
  for (int64_t t = 0; t < mc.n; ++t) {
    std::vector<int32_t> pool;
    for (int32_t e = 0; e < mc.n_exp; ++e)
      if (e != mc.n_exp - 2 || mc.n_exp - 1 < mc.k) pool.push_back(e);
    std::shuffle(pool.begin(), pool.end(), rng);
    if (t % 3 == 0) std::sort(pool.begin(), pool.end());  // many tokens on experts 0 and 1
    float sum = 0;
    std::vector<float> p(static_cast<size_t>(mc.k));
    for (int64_t j = 0; j < mc.k; ++j) sum += (p[j] = std::exp(std::uniform_real_distribution<float>(-1, 1)(rng)));
    for (int64_t j = 0; j < mc.k; ++j) {
      m.ids.push_back(pool[j]);
      m.wts.push_back(p[j] / sum);
    }
  }
  for (int64_t e = 0; e < mc.n_exp; ++e) {
    m.w1.push_back(randn(static_cast<size_t>(mc.ff * mc.d), seed + 10 + static_cast<uint32_t>(e), 0.15f));
    m.w3.push_back(randn(static_cast<size_t>(mc.ff * mc.d), seed + 100 + static_cast<uint32_t>(e), 0.15f));
    m.w2.push_back(randn(static_cast<size_t>(mc.d * mc.ff), seed + 200 + static_cast<uint32_t>(e), 0.1f));
  }
  return m;
}

std::vector<float> moe_reference(const MoeCase& mc, const MoeData& m) {
  Oracle o;
  std::vector<ExpertWeights> ew(static_cast<size_t>(mc.n_exp));
  for (int64_t e = 0; e < mc.n_exp; ++e) {
    ew[e].w1 = o.weight(mc.w, {mc.ff, mc.d}, m.w1[e]);
    ew[e].w3 = o.weight(mc.w, {mc.ff, mc.d}, m.w3[e]);
    ew[e].w2 = o.weight(mc.w, {mc.d, mc.ff}, m.w2[e]);
  }
  Tensor out = o.f32({mc.n, mc.d}, std::vector<float>(static_cast<size_t>(mc.n * mc.d)));
  CHECK(o.be.moe_experts(out, o.f32({mc.n, mc.d}, m.x), o.i32({mc.n, mc.k}, m.ids), o.f32({mc.n, mc.k}, m.wts),
                         ew.data(), static_cast<int32_t>(mc.n_exp))
            .ok());
  return o.read_f32(out);
}

// The experts' weights on the device.
struct DevExperts {
  std::vector<DevTensor> w1, w3, w2;
  std::vector<ExpertWeights> ew;
  DevExperts(const MoeCase& mc, const MoeData& m) {
    for (int64_t e = 0; e < mc.n_exp; ++e) {
      w1.push_back(dev_weight(mc.w, {mc.ff, mc.d}, m.w1[e]));
      w3.push_back(dev_weight(mc.w, {mc.ff, mc.d}, m.w3[e]));
      w2.push_back(dev_weight(mc.w, {mc.d, mc.ff}, m.w2[e]));
    }
    for (int64_t e = 0; e < mc.n_exp; ++e) ew.push_back({w1[e].t, w3[e].t, w2[e].t});
  }
  bool guards() const {
    for (size_t e = 0; e < w1.size(); ++e)
      if (!w1[e].guards_intact() || !w3[e].guards_intact() || !w2[e].guards_intact()) return false;
    return true;
  }
};

std::string moe_name(const MoeCase& mc, int cc, const std::string& sched, uint32_t seed) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "moe_experts n%lld d%lld ff%lld experts%lld top%lld w=%s cc%d sched=%s seed=%u",
                static_cast<long long>(mc.n), static_cast<long long>(mc.d), static_cast<long long>(mc.ff),
                static_cast<long long>(mc.n_exp), static_cast<long long>(mc.k), dtype_name(mc.w), cc, sched.c_str(),
                seed);
  return buf;
}

std::vector<float> run_moe(const Ctx& c, const MoeCase& mc, const MoeData& m, const DevExperts& ex,
                           const std::string& what) {
  DevTensor dx = dev_f32({mc.n, mc.d}, m.x), di = dev_i32({mc.n, mc.k}, m.ids), dw = dev_f32({mc.n, mc.k}, m.wts);
  DevTensor dout = dev(DType::kF32, {mc.n, mc.d});
  expect_ok(cuda::moe_experts(c.ctx, dout.t, dx.t, di.t, dw.t, ex.ew.data(), static_cast<int32_t>(mc.n_exp)), what);
  expect_guards({&dx, &di, &dw, &dout}, what);
  CHECK_MSG(ex.guards(), "%s: expert weight guards overwritten", what.c_str());
  return read_f32(dout);
}

void check_moe(WorstError& worst, const MoeCase& mc, int cc, uint32_t seed) {
  const MoeData m = moe_data(mc, seed);
  const std::vector<float> ref = moe_reference(mc, m);
  for (const std::string& sched : schedules()) {
    CHECK_MSG(use_schedule(sched), "schedule %s refused", sched.c_str());
    const std::string what = moe_name(mc, cc, sched, seed);
    Ctx c(cc);
    DevExperts ex(mc, m);
    const char* path = cc >= 80 && mc.w != DType::kF32 ? "mma" : "simt";
    worst.close(run_moe(c, mc, m, ex, what), ref, kBoundExperts, what,
                std::string("moe_experts ") + path + " w=" + dtype_name(mc.w));
  }
}

TEST_CASE("moe: moe_experts {8 experts top-1 / top-2, 4 experts top-2} x 1/3/113 tokens, d72, ff 200/113, "
          "w f32/f16/bf16, an expert with no token, cc 75 + 80, 3 schedules, seed 81") {
  WorstError worst;
  const MoeCase cases[] = {
      {1, 72, 200, 8, 2, DType::kBF16},  {3, 72, 113, 8, 1, DType::kF16},  {113, 72, 200, 8, 2, DType::kBF16},
      {113, 72, 113, 4, 2, DType::kF16}, {3, 72, 200, 4, 2, DType::kF32},  {113, 72, 200, 8, 1, DType::kF32},
  };
  for (const MoeCase& mc : cases)
    for (int cc : {75, 80}) check_moe(worst, mc, cc, 81);
}

TEST_CASE("moe: moe_experts batch invariance, bitwise: tokens alone, in 3 and in 113 (small and large tiles), "
          "8 experts top-2, d72 ff200, w f32/bf16/f16, cc 75 + 80, forward schedule, seed 82") {
  CHECK(use_schedule(schedules()[0]));
  for (DType wt : {DType::kBF16, DType::kF16, DType::kF32})
    for (int cc : {75, 80}) {
      const MoeCase big{113, 72, 200, 8, 2, wt};
      const MoeData m = moe_data(big, 82);
      DevExperts ex(big, m);
      Ctx c(cc);
      const std::string what = moe_name(big, cc, schedules()[0], 82) + " invariance";
      const std::vector<float> full = run_moe(c, big, m, ex, what);
      auto subset = [&](const std::vector<int>& toks) {
        MoeCase mc = big;
        mc.n = static_cast<int64_t>(toks.size());
        MoeData s;
        for (int t : toks) {
          s.x.insert(s.x.end(), m.x.begin() + t * big.d, m.x.begin() + (t + 1) * big.d);
          s.ids.insert(s.ids.end(), m.ids.begin() + t * big.k, m.ids.begin() + (t + 1) * big.k);
          s.wts.insert(s.wts.end(), m.wts.begin() + t * big.k, m.wts.begin() + (t + 1) * big.k);
        }
        return run_moe(c, mc, s, ex, what);
      };
      for (int t : {0, 1, 50, 112}) {
        const std::vector<float> alone = subset({t});
        CHECK_MSG(std::memcmp(alone.data(), full.data() + t * big.d, big.d * 4) == 0, "%s: token %d alone != in 113",
                  what.c_str(), t);
        const std::vector<float> three = subset({(t + 3) % 113, (t + 60) % 113, t});
        CHECK_MSG(std::memcmp(three.data() + 2 * big.d, full.data() + t * big.d, big.d * 4) == 0,
                  "%s: token %d in 3 != in 113", what.c_str(), t);
      }
    }
}

TEST_CASE("moe: moe_experts over the scratch budget runs in chunks of tokens (budget 1 byte: one token a chunk; "
          "64 KiB: uneven chunks), bitwise equal to one pass; 113 tokens, 8 experts top-2, d72 ff200, w bf16 cc 80 "
          "(tensor cores) and f32 cc 75 (SIMT), forward schedule, seed 85") {
  CHECK(use_schedule(schedules()[0]));
  for (const auto& [wt, cc] : {std::pair<DType, int>{DType::kBF16, 80}, std::pair<DType, int>{DType::kF32, 75}}) {
    const MoeCase mc{113, 72, 200, 8, 2, wt};
    const MoeData m = moe_data(mc, 85);
    DevExperts ex(mc, m);
    const std::string what = moe_name(mc, cc, schedules()[0], 85);
    Ctx whole(cc);
#if defined(CUDA_EMU)
    cuda_emu::reset_stats();
#endif
    const std::vector<float> one_pass = run_moe(whole, mc, m, ex, what);
#if defined(CUDA_EMU)
    const uint64_t launches_whole = cuda_emu::stats().launches;
#endif
    expect_close(one_pass, moe_reference(mc, m), kBoundExperts, what);
    for (size_t budget : {size_t{1}, size_t{64} << 10}) {
      Ctx chunked(cc);
      chunked.ctx.scratch_budget = budget;
#if defined(CUDA_EMU)
      cuda_emu::reset_stats();
#endif
      const std::vector<float> got = run_moe(chunked, mc, m, ex, what + " budget " + std::to_string(budget));
      CHECK_MSG(std::memcmp(got.data(), one_pass.data(), one_pass.size() * 4) == 0,
                "%s: in chunks (scratch budget %zu bytes) != in one pass", what.c_str(), budget);
#if defined(CUDA_EMU)
      CHECK_MSG(cuda_emu::stats().launches > launches_whole, "%s: budget %zu bytes: %llu launches, no more than the "
                "%llu of one pass (no chunks?)", what.c_str(), budget,
                static_cast<unsigned long long>(cuda_emu::stats().launches),
                static_cast<unsigned long long>(launches_whole));
#endif
    }
  }
}

TEST_CASE("moe: moe_experts with expert ids out of range (-1, n_experts, INT_MAX): the entry is left out, no access "
          "outside the weights, cc 75 + 80, 3 schedules, seed 83") {
  const MoeCase mc{5, 72, 113, 4, 2, DType::kBF16};
  MoeData m = moe_data(mc, 83);
  MoeData ok = m;  // the CPU op refuses bad ids: the same sum with those entries at weight 0
  const int32_t bad[] = {-1, 4, INT32_MAX};
  for (int i = 0; i < 3; ++i) {
    m.ids[2 * i + 1] = bad[i];
    ok.ids[2 * i + 1] = 0;
    ok.wts[2 * i + 1] = 0.f;
  }
  const std::vector<float> ref = moe_reference(mc, ok);
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    for (int cc : {75, 80}) {
      const std::string what = moe_name(mc, cc, sched, 83) + " bad ids";
      Ctx c(cc);
      DevExperts ex(mc, m);
      expect_close(run_moe(c, mc, m, ex, what), ref, kBoundExperts, what);
    }
  }
}

TEST_CASE("moe: route then experts, 113 tokens, 8 experts top-2, d72 ff200, w bf16, cc 80, 3 schedules, seed 84") {
  const MoeCase mc{113, 72, 200, 8, 2, DType::kBF16};
  MoeData m = moe_data(mc, 84);
  const std::vector<float> lg = randn(static_cast<size_t>(mc.n * mc.n_exp), 85);
  {
    Oracle o;
    Tensor rids = o.i32({mc.n, mc.k}, std::vector<int32_t>(static_cast<size_t>(mc.n * mc.k)));
    Tensor rw = o.f32({mc.n, mc.k}, std::vector<float>(static_cast<size_t>(mc.n * mc.k)));
    CHECK(o.be.moe_route(rids, rw, o.f32({mc.n, mc.n_exp}, lg)).ok());
    m.ids = o.read_i32(rids);
    m.wts = o.read_f32(rw);
  }
  const std::vector<float> ref = moe_reference(mc, m);
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    const std::string what = moe_name(mc, 80, sched, 84) + " routed";
    Ctx c(80);
    DevExperts ex(mc, m);
    DevTensor dl = dev_f32({mc.n, mc.n_exp}, lg), di = dev(DType::kI32, {mc.n, mc.k});
    DevTensor dw = dev(DType::kF32, {mc.n, mc.k});
    DevTensor dx = dev_f32({mc.n, mc.d}, m.x), dout = dev(DType::kF32, {mc.n, mc.d});
    expect_ok(cuda::moe_route(c.ctx, di.t, dw.t, dl.t), what);
    expect_equal(read_i32(di), m.ids, what);
    expect_ok(cuda::moe_experts(c.ctx, dout.t, dx.t, di.t, dw.t, ex.ew.data(), 8), what);
    expect_close(read_f32(dout), ref, kBoundExperts, what);
  }
}

TEST_CASE("moe: moe_experts refuses mixed expert dtypes, more than 64 experts and bad shapes") {
  Ctx c(80);
  const MoeCase mc{2, 16, 24, 2, 1, DType::kBF16};
  const MoeData m = moe_data(mc, 86);
  DevExperts ex(mc, m);
  DevTensor dx = dev_f32({2, 16}, m.x), di = dev_i32({2, 1}, m.ids), dw = dev_f32({2, 1}, m.wts);
  DevTensor dout = dev(DType::kF32, {2, 16}), bad_out = dev(DType::kF32, {2, 15});
  CHECK(cuda::moe_experts(c.ctx, dout.t, dx.t, di.t, dw.t, ex.ew.data(), 2).ok());
  CHECK(cuda::moe_experts(c.ctx, bad_out.t, dx.t, di.t, dw.t, ex.ew.data(), 2).code == Code::kInvalidArgument);
  CHECK(cuda::moe_experts(c.ctx, dout.t, dx.t, di.t, dw.t, ex.ew.data(), 65).code == Code::kInvalidArgument);
  DevTensor w2_f16 = dev_weight(DType::kF16, {16, 24}, m.w2[1]);
  std::vector<ExpertWeights> mixed = ex.ew;
  mixed[1].w2 = w2_f16.t;
  CHECK(cuda::moe_experts(c.ctx, dout.t, dx.t, di.t, dw.t, mixed.data(), 2).code == Code::kInvalidArgument);
}

TEST_CASE("full: moe_experts matrix 1/3/17/113/300 tokens x {8 top-1, 8 top-2, 4 top-2} x ff 113/200 x "
          "w f32/f16/bf16 x cc 75/80, 3 schedules, seed 91") {
  WorstError worst;
  for (int64_t n : {1, 3, 17, 113, 300})
    for (auto ek : {std::pair<int64_t, int64_t>{8, 1}, {8, 2}, {4, 2}})
      for (int64_t ff : {113, 200})
        for (DType wt : {DType::kF32, DType::kF16, DType::kBF16})
          for (int cc : {75, 80}) check_moe(worst, {n, 72, ff, ek.first, ek.second, wt}, cc, 91);
}

}  // namespace
}  // namespace xlam::cuda_test
