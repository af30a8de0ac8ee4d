// sample on CUDA (emulated) against the CPU reference op (the engine's host sampler):
//   - greedy exact, ties to the lowest id, -0 == +0, any NaN -> -1, every logit -inf -> -1;
//   - seeded draws (unfiltered and each of top-k, top-p, min-p, all together): the CPU op's token,
//     except where the draw (or the top-p / min-p cut) falls within 1e-9 of a boundary between two
//     tokens in a long-double recomputation of the walk; such cases are counted and must be rare;
//   - the draw's distribution (chi-square over many steps on a small vocabulary);
//   - the same tokens under every schedule, and for a row alone or among 113 rows;
//   - parameters out of range -> -2 for that row only; guard bytes intact.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../native/src/philox.h"
#include "../../native/src/sample-math.h"
#include "../../native/tests/check.h"
#include "op-test.h"

namespace xlam::cuda_test {
namespace {

struct RowParams {
  float temperature, top_p, min_p, top_k;
  uint64_t seed, step;
};

// Rows of logits [n_rows, n_vocab] with their parameters.
struct Batch {
  int64_t n_vocab = 0;
  std::vector<float> logits;
  std::vector<RowParams> rows;
  void add(const float* row, const RowParams& p) {
    logits.insert(logits.end(), row, row + n_vocab);
    rows.push_back(p);
  }
  int64_t n_rows() const { return static_cast<int64_t>(rows.size()); }
  std::vector<float> params() const {
    std::vector<float> v;
    for (const RowParams& r : rows) v.insert(v.end(), {r.temperature, r.top_p, r.min_p, r.top_k});
    return v;
  }
  std::vector<int32_t> rng() const {
    std::vector<int32_t> v;
    for (const RowParams& r : rows)
      v.insert(v.end(), {static_cast<int32_t>(static_cast<uint32_t>(r.seed)), static_cast<int32_t>(r.seed >> 32),
                         static_cast<int32_t>(static_cast<uint32_t>(r.step)), static_cast<int32_t>(r.step >> 32)});
    return v;
  }
};

std::vector<int32_t> cpu_tokens(const Batch& b) {
  Oracle o;
  const int64_t n = b.n_rows();
  Tensor out = o.i32({n}, std::vector<int32_t>(static_cast<size_t>(n), -7));
  expect_ok(o.be.sample(out, o.f32({n, b.n_vocab}, b.logits), o.f32({n, 4}, b.params()), o.i32({n, 4}, b.rng())),
            "cpu sample");
  return o.read_i32(out);
}

// The CUDA op under the current schedule; guards checked.
std::vector<int32_t> cuda_tokens(const Batch& b, const std::string& what) {
  const int64_t n = b.n_rows();
  Ctx c;
  DevTensor out = dev(DType::kI32, {n}), l = dev_f32({n, b.n_vocab}, b.logits);
  DevTensor p = dev_f32({n, 4}, b.params()), r = dev_i32({n, 4}, b.rng());
  expect_ok(cuda::sample(c.ctx, out.t, l.t, p.t, r.t), what);
  expect_guards({&out, &l, &p, &r}, what);
  return read_i32(out);
}

// The draw of one row recomputed in long double: the tokens it walks, in order, with their weights,
// and whether a top-p or min-p cut falls within `eps` of its threshold.
struct Walk {
  std::vector<std::pair<int32_t, long double>> items;
  bool near_cut = false;
};

Walk walk(const float* l, int64_t n, const RowParams& p, long double eps) {
  Walk w;
  const double inv_t = 1.0 / static_cast<double>(p.temperature);
  const int32_t top_k = top_k_of(p.top_k);
  if (top_k == 0 && p.top_p >= 1 && p.min_p == 0) {  // id order, the float weights
    const float inv_tf = static_cast<float>(inv_t);
    float best = -INFINITY;
    for (int64_t i = 0; i < n; ++i) best = l[i] > best ? l[i] : best;
    const float top = best * inv_tf;
    for (int64_t i = 0; i < n; ++i) {
      const float x = draw_weight(l[i], inv_tf, top);
      if (x > 0) w.items.emplace_back(static_cast<int32_t>(i), x);
    }
    return w;
  }
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n; ++i)
    if (!std::isnan(l[i]) && l[i] != -INFINITY) ids.push_back(static_cast<int32_t>(i));
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
  if (top_k > 0 && static_cast<size_t>(top_k) < ids.size()) ids.resize(static_cast<size_t>(top_k));
  if (ids.empty()) return w;
  const long double top = static_cast<long double>(l[ids[0]]) * inv_t;
  std::vector<long double> e;
  long double z = 0;
  for (int32_t id : ids) z += e.emplace_back(std::exp(static_cast<long double>(l[id]) * inv_t - top));
  size_t keep = ids.size();
  if (p.top_p < 1) {
    long double mass = 0;
    size_t k = 0;
    while (k < keep && mass < p.top_p * z) {
      mass += e[k++];
      if (std::fabs(mass - p.top_p * z) <= eps * z) w.near_cut = true;
    }
    keep = std::max<size_t>(k, 1);
  }
  if (p.min_p > 0) {
    size_t k = 1;
    while (k < keep && e[k] >= p.min_p) ++k;
    for (size_t i : {k - 1, k})
      if (i < keep && std::fabs(e[i] - p.min_p) <= eps) w.near_cut = true;
    keep = k;
  }
  for (size_t i = 0; i < keep; ++i) w.items.emplace_back(ids[i], e[i]);
  return w;
}

// True when tokens a and b both lie within eps (relative) of where the draw lands, or a cut is
// that close to its threshold: the two backends may then round to different tokens.
bool at_boundary(const float* l, int64_t n, const RowParams& p, int32_t a, int32_t b, long double eps = 1e-9L) {
  const Walk w = walk(l, n, p, eps);
  if (w.near_cut) return true;
  long double total = 0;
  for (const auto& it : w.items) total += it.second;
  const long double c = static_cast<long double>(philox_uniform(p.seed, p.step)) * total;
  auto distance = [&](int32_t t) {
    long double lo = 0;
    for (const auto& it : w.items) {
      const long double hi = lo + it.second;
      if (it.first == t) return c < lo ? lo - c : c >= hi ? c - hi : 0.0L;
      lo = hi;
    }
    return static_cast<long double>(INFINITY);
  };
  return distance(a) <= eps * total && distance(b) <= eps * total;
}

// Compares CUDA with the CPU op over every schedule: identical tokens across schedules; equal to the
// CPU's except at boundaries (counted into *boundary). Returns the CUDA tokens.
std::vector<int32_t> compare(const Batch& b, const std::string& what, int* boundary) {
  const std::vector<int32_t> want = cpu_tokens(b);
  std::vector<int32_t> first;
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    const std::vector<int32_t> got = cuda_tokens(b, what + " " + sched);
    CHECK_MSG(got.size() == want.size(), "%s %s: %zu tokens", what.c_str(), sched.c_str(), got.size());
    if (first.empty()) {
      first = got;
      for (size_t r = 0; r < got.size() && r < want.size(); ++r) {
        if (got[r] == want[r]) continue;
        const RowParams& p = b.rows[r];
        const bool drawn = p.temperature > 0 && got[r] >= 0 && want[r] >= 0;
        const bool edge = drawn && at_boundary(&b.logits[r * b.n_vocab], b.n_vocab, p, got[r], want[r]);
        CHECK_MSG(edge, "%s %s: row %zu (T %g top_p %g min_p %g top_k %g seed %llu step %llu) gives %d, the CPU %d",
                  what.c_str(), sched.c_str(), r, p.temperature, p.top_p, p.min_p, p.top_k,
                  static_cast<unsigned long long>(p.seed), static_cast<unsigned long long>(p.step), got[r], want[r]);
        *boundary += edge;
      }
    } else {
      expect_equal(got, first, what + " " + sched + " vs " + schedules()[0]);
    }
  }
  return first;
}

// Parameter sets: unfiltered at three temperatures, each filter alone, all together, top-k 1.
const std::vector<RowParams>& configs() {
  static const std::vector<RowParams> c = {
      {1.0f, 1.0f, 0.0f, 0, 11, 0},     {0.7f, 1.0f, 0.0f, 0, 12, 0},   {1.6f, 1.0f, 0.0f, 0, 1ull << 40, 0},
      {1.0f, 1.0f, 0.0f, 40, 13, 0},    {1.0f, 0.9f, 0.0f, 0, 14, 0},   {1.0f, 1.0f, 0.05f, 0, 15, 0},
      {0.8f, 0.95f, 0.02f, 50, 16, 0},  {1.3f, 0.5f, 0.0f, 1, 17, 0},   {1.0f, 0.3f, 0.1f, 3, 18, 0},
      {0.9f, 1.0f, 0.0f, 7, 19, 0},
  };
  return c;
}

// Logits of one row: normal with a spread that leaves several likely tokens, plus banned tokens,
// NaN and ties (equal logits the filters must order by id).
std::vector<float> row_logits(int64_t n, uint32_t seed) {
  std::vector<float> v = randn(static_cast<size_t>(n), seed, 2.0f);
  if (n > 12) {
    v[3] = -INFINITY;
    v[5] = NAN;
    v[n - 1] = v[1];
    v[9] = v[1];
    v[11] = 0.0f;
    v[12] = -0.0f;
  }
  return v;
}

// A batch of every configuration at `steps` steps over rows of n_vocab logits.
Batch draws(int64_t n_vocab, int steps, uint32_t seed) {
  Batch b;
  b.n_vocab = n_vocab;
  for (size_t c = 0; c < configs().size(); ++c) {
    const std::vector<float> l = row_logits(n_vocab, seed + static_cast<uint32_t>(c));
    for (int s = 0; s < steps; ++s) {
      RowParams p = configs()[c];
      p.step = static_cast<uint64_t>(s) * 977 + c;
      b.add(l.data(), p);
    }
  }
  return b;
}

void check_draws(int64_t n_vocab, int steps, uint32_t seed) {
  const Batch b = draws(n_vocab, steps, seed);
  int boundary = 0;
  const std::string what = "sample vocab" + std::to_string(n_vocab) + " rows" + std::to_string(b.n_rows()) + " seed" +
                           std::to_string(seed);
  compare(b, what, &boundary);
  std::printf("  %s: %lld rows, %d at a boundary (differing from the CPU)\n", what.c_str(),
              static_cast<long long>(b.n_rows()), boundary);
  CHECK_MSG(boundary * 1000 <= b.n_rows(), "%s: %d boundary cases", what.c_str(), boundary);
}

}  // namespace

TEST_CASE("sample: greedy is exact: ties to the lowest id, -0 == +0, any NaN or every logit -inf gives -1; vocab "
          "1/7/1000/4097, schedules forward/reverse/random:12345, seed 1") {
  for (int64_t v : {1, 7, 1000, 4097}) {
    Batch b;
    b.n_vocab = v;
    const RowParams g{0.0f, 1.0f, 0.0f, 0, 0, 0};
    for (uint32_t s = 0; s < 6; ++s) b.add(row_logits(v, s + 1).data(), g);
    std::vector<float> l(static_cast<size_t>(v), 1.0f);  // all equal: 0
    b.add(l.data(), g);
    for (int64_t i = 0; i < v; ++i) l[i] = i % 3 == 2 ? 5.0f : -1.0f;  // ties at 2, 5, ...: 2 (v > 2)
    b.add(l.data(), g);
    std::fill(l.begin(), l.end(), -INFINITY);
    b.add(l.data(), g);  // -1
    l[v - 1] = 0.0f;
    b.add(l.data(), g);  // the last one
    l[v / 2] = -0.0f;
    b.add(l.data(), g);  // -0 == +0: the lower id
    l[v / 3] = NAN;
    b.add(l.data(), g);  // -1
    int boundary = 0;
    const std::vector<int32_t> got = compare(b, "sample greedy vocab" + std::to_string(v), &boundary);
    CHECK(boundary == 0);
    CHECK(got.size() == 12 && got[6] == 0 && got[8] == -1 && got[9] == v - 1 && got[10] == v / 2 && got[11] == -1);
    CHECK(got.size() == 12 && got[7] == (v > 2 ? 2 : 0));
  }
}

TEST_CASE("sample: seeded draws equal the CPU op's except within rounding of a boundary; unfiltered, top-k, top-p, "
          "min-p, all; vocab 1/7/33/1000/4097, schedules forward/reverse/random:12345, seed 2") {
  check_draws(1, 2, 2);
  check_draws(7, 8, 2);
  check_draws(33, 8, 2);
  check_draws(1000, 6, 2);
  check_draws(4097, 3, 2);
}

TEST_CASE("full: sample: seeded draws, vocab 151936 and 32000, schedules forward/reverse/random:12345, seed 3") {
  check_draws(151936, 2, 3);
  check_draws(32000, 8, 3);
}

TEST_CASE("sample: flat and tied logits (every token equal, a few equal leaders) draw the CPU op's tokens, vocab "
          "1000, schedules forward/reverse/random:12345, seed 4") {
  Batch b;
  b.n_vocab = 1000;
  std::vector<float> flat(1000, 0.5f), leaders(1000, -3.0f);
  for (int i : {17, 400, 401, 999}) leaders[i] = 2.0f;
  for (const RowParams& c : configs())
    for (int s = 0; s < 6; ++s) {
      RowParams p = c;
      p.step = static_cast<uint64_t>(s);
      b.add(flat.data(), p);
      b.add(leaders.data(), p);
    }
  int boundary = 0;
  compare(b, "sample flat/tied vocab1000", &boundary);
  CHECK(boundary * 1000 <= b.n_rows());
}

TEST_CASE("sample: the boundary test accepts two neighbours only where the draw lands between them") {
  // Two likely tokens whose weights put the boundary between them where this step's draw lands, up
  // to the float rounding of the logit (about 1e-7), and a third weighing about 1e-13.
  const RowParams p{1.0f, 1.0f, 0.0f, 0, 99, 5};
  const double x = philox_uniform(p.seed, p.step);
  const float d = static_cast<float>(std::log(1 / x - 1));
  // x > 1/2: weights 1 and 1/x - 1, the draw at 1; else x/(1-x) and 1, the draw at x/(1-x).
  const std::vector<float> l = x > 0.5 ? std::vector<float>{0.0f, d, -30.0f} : std::vector<float>{-d, 0.0f, -30.0f};
  CHECK(at_boundary(l.data(), 3, p, 0, 1, 1e-6L));
  CHECK(!at_boundary(l.data(), 3, p, 0, 1, 1e-12L));
  CHECK(!at_boundary(l.data(), 3, p, 0, 2, 1e-6L));  // token 2 weighs ~1e-13: far from the draw
  const RowParams far{1.0f, 1.0f, 0.0f, 0, 99, 6};
  CHECK(!at_boundary(l.data(), 3, far, 0, 1, 1e-6L) || std::fabs(philox_uniform(99, 6) - philox_uniform(99, 5)) < 1e-5);
}

TEST_CASE("sample: draws follow the filtered softmax: chi-square over 2000 steps, vocab 10, unfiltered and top-k 6 / "
          "top-p 0.9, schedule forward") {
  const std::vector<float> row = {1.0f, 2.0f, 0.5f, 3.0f, -1.0f, 2.5f, 0.0f, 1.5f, -0.5f, 2.2f};
  const int64_t v = static_cast<int64_t>(row.size());
  CHECK(use_schedule("forward"));
  for (int variant = 0; variant < 2; ++variant) {
    const RowParams c = variant == 0 ? RowParams{1.0f, 1.0f, 0.0f, 0, 777, 0} : RowParams{1.0f, 0.9f, 0.0f, 6, 778, 0};
    const int n = 2000;
    Batch b;
    b.n_vocab = v;
    for (int s = 0; s < n; ++s) {
      RowParams p = c;
      p.step = static_cast<uint64_t>(s);
      b.add(row.data(), p);
    }
    const std::vector<int32_t> got = cuda_tokens(b, "sample chi-square");
    // The kept tokens and their probabilities (exact, in long double).
    const Walk w = walk(row.data(), v, c, 0);
    long double z = 0;
    for (const auto& it : w.items) z += it.second;
    std::vector<int> count(static_cast<size_t>(v), 0);
    for (int32_t t : got) {
      CHECK(t >= 0 && t < v);
      if (t >= 0 && t < v) count[t]++;
    }
    double chi2 = 0;
    int kept_draws = 0;
    for (const auto& it : w.items) {
      const double e = static_cast<double>(it.second / z) * n;
      chi2 += (count[it.first] - e) * (count[it.first] - e) / e;
      kept_draws += count[it.first];
    }
    const int df = static_cast<int>(w.items.size()) - 1;
    // 0.1 % critical values of chi-square: df 4: 18.47, df 9: 27.88.
    const double crit = df == 4 ? 18.47 : df == 9 ? 27.88 : 0;
    std::printf("  chi-square %s: %.2f with %d degrees of freedom (0.1%% critical value %.2f)\n",
                variant == 0 ? "unfiltered" : "top-k 6 top-p 0.9", chi2, df, crit);
    CHECK_MSG(kept_draws == n, "tokens outside the kept set: %d", n - kept_draws);
    CHECK_MSG(chi2 < crit, "chi-square %.2f, df %d", chi2, df);
  }
}

TEST_CASE("sample: a row's token is the same alone and among 113 rows of other parameters and lengths of rows; "
          "vocab 1000, schedules forward/reverse/random:12345, seed 5") {
  const int64_t v = 1000;
  Batch many;
  many.n_vocab = v;
  for (int r = 0; r < 113; ++r) {
    RowParams p = configs()[static_cast<size_t>(r) % configs().size()];
    if (r % 11 == 0) p.temperature = 0;
    p.step = static_cast<uint64_t>(r) * 31;
    many.add(row_logits(v, 100 + r).data(), p);
  }
  int boundary = 0;
  const std::vector<int32_t> all = compare(many, "sample batch113", &boundary);
  for (int r : {0, 56, 57, 112}) {
    Batch one;
    one.n_vocab = v;
    one.add(&many.logits[static_cast<size_t>(r) * v], many.rows[r]);
    for (const std::string& sched : schedules()) {
      CHECK(use_schedule(sched));
      const std::vector<int32_t> alone = cuda_tokens(one, "sample alone row" + std::to_string(r) + " " + sched);
      CHECK_MSG(alone.size() == 1 && all.size() == 113 && alone[0] == all[r], "row %d: alone %d, in the batch %d", r,
                alone.empty() ? -9 : alone[0], all.size() == 113 ? all[r] : -9);
    }
  }
}

TEST_CASE("sample: parameters out of range give -2 for their row only; no vocabulary gives -1; bad shapes are "
          "INVALID_ARGUMENT") {
  const float inf = INFINITY, nan = NAN;
  Batch b;
  b.n_vocab = 5;
  const std::vector<float> l = {0.1f, 0.5f, -1.0f, 2.0f, 0.0f};
  const std::vector<RowParams> ps = {
      {-1, 1, 0, 0, 0, 0},   {nan, 1, 0, 0, 0, 0},   {inf, 1, 0, 0, 0, 0},  {1, 0, 0, 0, 0, 0},
      {1, 1.5f, 0, 0, 0, 0}, {1, 1, -0.1f, 0, 0, 0}, {1, 1, 2, 0, 0, 0},    {1, 1, 0, -1, 0, 0},
      {1, 1, 0, 2.5f, 0, 0}, {1, 1, 0, nan, 0, 0},   {0, 1, 0, 3, 0, 0},    {1, 1, 0, inf, 0, 0},
  };
  for (const RowParams& p : ps) b.add(l.data(), p);
  int boundary = 0;
  const std::vector<int32_t> got = compare(b, "sample bad parameters", &boundary);
  std::vector<int32_t> want(ps.size(), -2);
  want[10] = 3;  // greedy
  want[11] = cpu_tokens(b)[11];  // top_k +inf: no limit
  CHECK(got == want && want[11] >= 0);
  Batch empty;
  empty.n_vocab = 0;
  empty.rows = {{1, 1, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0}, {1, 2, 0, 0, 0, 0}};
  CHECK(cuda_tokens(empty, "sample vocab0") == std::vector<int32_t>({-1, -1, -2}));
  CHECK(cpu_tokens(empty) == std::vector<int32_t>({-1, -1, -2}));
  Ctx c;
  DevTensor out = dev(DType::kI32, {2}), out3 = dev(DType::kI32, {3}), lg = dev(DType::kF32, {2, 10});
  DevTensor p = dev(DType::kF32, {2, 4}), p3 = dev(DType::kF32, {2, 3}), r = dev(DType::kI32, {2, 4});
  CHECK(cuda::sample(c.ctx, out3.t, lg.t, p.t, r.t).code == Code::kInvalidArgument);
  CHECK(cuda::sample(c.ctx, out.t, lg.t, p3.t, r.t).code == Code::kInvalidArgument);
  CHECK(cuda::sample(c.ctx, out.t, lg.t, p.t, p.t).code == Code::kInvalidArgument);
}

}  // namespace xlam::cuda_test
