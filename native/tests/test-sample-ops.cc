// The sampling ops of the CPU backend (apply_token_mask, sample): the sample op against the
// engine's SamplerState on the same logits (the same tokens, greedy and seeded), its -1 / -2 rows,
// the draw's distribution, and the mask op against the scheduler's 64-bit bitset semantics; the
// fast backend against the reference backend.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "../cpu/cpu-backend.h"
#include "../src/sample.h"
#include "check.h"

using namespace xlam;

namespace {

struct Backends {
  cpu::CpuBackend fast{cpu::CpuOptions{2, false}};
  cpu::CpuBackend ref{cpu::CpuOptions{1, true}};
};

Tensor make(Backend& be, DType dtype, const Shape& shape, const void* bytes) {
  Tensor t;
  CHECK(be.alloc(dtype, shape, &t).ok());
  if (bytes) CHECK(be.upload(t, bytes, t.nbytes()).ok());
  return t;
}

std::vector<float> randn(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// One row's parameters, as the op takes them.
struct RowParams {
  float temperature, top_p, min_p, top_k;
  uint64_t seed, step;
};

// Runs the sample op on `be` over rows sharing nothing: logits [n_rows, n_vocab].
std::vector<int32_t> run_sample(Backend& be, const std::vector<float>& logits, int64_t n_vocab,
                                const std::vector<RowParams>& rows) {
  const int64_t n = static_cast<int64_t>(rows.size());
  std::vector<float> params;
  std::vector<int32_t> rng;
  for (const RowParams& r : rows) {
    params.insert(params.end(), {r.temperature, r.top_p, r.min_p, r.top_k});
    rng.insert(rng.end(), {static_cast<int32_t>(static_cast<uint32_t>(r.seed)), static_cast<int32_t>(r.seed >> 32),
                           static_cast<int32_t>(static_cast<uint32_t>(r.step)), static_cast<int32_t>(r.step >> 32)});
  }
  Tensor tl = make(be, DType::kF32, {n, n_vocab}, logits.data());
  Tensor tp = make(be, DType::kF32, {n, 4}, params.data());
  Tensor tr = make(be, DType::kI32, {n, 4}, rng.data());
  Tensor out = make(be, DType::kI32, {n}, nullptr);
  const Status st = be.sample(out, tl, tp, tr);
  CHECK_MSG(st.ok(), "%s", st.message.c_str());
  std::vector<int32_t> tokens(static_cast<size_t>(n), -7);
  CHECK(be.download(tokens.data(), out, tokens.size() * 4).ok());
  for (Tensor* t : {&tl, &tp, &tr, &out}) be.release(t);
  return tokens;
}

// The configurations every comparison runs: greedy, unfiltered, each filter and all of them.
std::vector<RowParams> configs() {
  return {
      {0.0f, 1.0f, 0.0f, 0, 0, 0},       {1.0f, 1.0f, 0.0f, 0, 11, 0},     {0.7f, 1.0f, 0.0f, 0, 12, 0},
      {1.0f, 1.0f, 0.0f, 40, 13, 0},     {1.0f, 0.9f, 0.0f, 0, 14, 0},     {1.0f, 1.0f, 0.05f, 0, 15, 0},
      {0.8f, 0.95f, 0.02f, 50, 16, 0},   {1.3f, 0.5f, 0.0f, 1, 17, 0},     {2.0f, 0.999f, 0.0f, 0, 1ull << 40, 0},
      {1.0f, 1.0f, 0.0f, 5000, 18, 0},   {0.05f, 1.0f, 0.0f, 0, 19, 0},
  };
}

}  // namespace

TEST_CASE("sample ops: the sample op gives SamplerState's tokens (greedy and seeded, every filter)") {
  Backends b;
  for (int64_t n_vocab : {1, 7, 1000, 4097}) {
    std::vector<float> row = randn(static_cast<size_t>(n_vocab), static_cast<uint32_t>(n_vocab), 2.0f);
    if (n_vocab > 7) {  // banned tokens, NaN and ties the filters must order by id
      row[3] = -INFINITY;
      row[5] = NAN;
      row[6] = row[2];
      row[9] = row[2];
    }
    for (const RowParams& c : configs()) {
      const int steps = 40;
      SamplingParams sp;
      sp.temperature = c.temperature;
      sp.top_p = c.top_p;
      sp.min_p = c.min_p;
      sp.top_k = static_cast<int32_t>(c.top_k);
      sp.seed = c.seed;
      SamplerState state(sp, {});
      std::vector<int32_t> expect;
      std::vector<RowParams> rows;
      std::vector<float> logits;
      for (int s = 0; s < steps; ++s) {
        std::vector<float> l = row;
        expect.push_back(state.sample(l.data(), n_vocab));
        RowParams r = c;
        r.step = static_cast<uint64_t>(s);
        rows.push_back(r);
        logits.insert(logits.end(), row.begin(), row.end());
      }
      for (Backend* be : {static_cast<Backend*>(&b.fast), static_cast<Backend*>(&b.ref)}) {
        const std::vector<int32_t> got = run_sample(*be, logits, n_vocab, rows);
        CHECK_MSG(got == expect, "%s vocab %lld T %g top_p %g min_p %g top_k %g: first differs",
                  be->name().c_str(), static_cast<long long>(n_vocab), c.temperature, c.top_p, c.min_p, c.top_k);
      }
      if (c.temperature > 0 && n_vocab >= 1000) {  // the draws really vary with the step
        int distinct = 0;
        for (size_t i = 1; i < expect.size(); ++i) distinct += expect[i] != expect[0];
        CHECK(c.top_k == 1 || c.temperature < 0.1f || distinct > 0);
      }
    }
  }
}

TEST_CASE("sample ops: greedy takes the lowest id on ties; -1 without a token, -2 for bad parameters") {
  Backends b;
  const int64_t v = 6;
  const float inf = INFINITY, nan = NAN;
  std::vector<float> logits = {
      1, 3, 2, 3, 0, 3,                    // greedy: 1
      -inf, -inf, -inf, -inf, -inf, -inf,  // greedy: -1
      1, 2, nan, 0, 0, 0,                  // greedy: -1 (any NaN, as argmax)
      -inf, nan, -inf, nan, -inf, -inf,    // drawn: -1
      -inf, nan, 2, nan, -inf, -inf,       // drawn: the one token left, 2
      -inf, nan, 2, nan, -inf, 4,          // top-k 1: 5
      0.0f, -0.0f, -1, -2, -3, -4,         // greedy: 0 (0 == -0)
      -0.0f, 0.0f, -1, -2, -3, -4,         // greedy: 0
  };
  std::vector<RowParams> rows = {
      {0, 1, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0}, {1, 1, 0, 0, 5, 0},
      {1, 0.5f, 0.1f, 3, 5, 0}, {1, 1, 0, 1, 5, 0}, {0, 1, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0},
  };
  const std::vector<int32_t> expect = {1, -1, -1, -1, 2, 5, 0, 0};
  for (Backend* be : {static_cast<Backend*>(&b.fast), static_cast<Backend*>(&b.ref)})
    CHECK(run_sample(*be, logits, v, rows) == expect);
  // Parameters outside validate_sampling's ranges give -2 for their row only.
  const std::vector<RowParams> bad = {
      {-1, 1, 0, 0, 0, 0},  {nan, 1, 0, 0, 0, 0}, {inf, 1, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0},
      {1, 1.5f, 0, 0, 0, 0}, {1, nan, 0, 0, 0, 0}, {1, 1, -0.1f, 0, 0, 0}, {1, 1, 2, 0, 0, 0},
      {1, 1, 0, -1, 0, 0},  {1, 1, 0, 2.5f, 0, 0}, {1, 1, 0, nan, 0, 0}, {0, 1, 0, 1, 0, 0},
  };
  std::vector<float> rep;
  for (size_t i = 0; i < bad.size(); ++i) rep.insert(rep.end(), logits.begin(), logits.begin() + v);
  std::vector<int32_t> want(bad.size(), -2);
  want.back() = 1;  // the last row is valid (greedy; top_k is ignored)
  for (Backend* be : {static_cast<Backend*>(&b.fast), static_cast<Backend*>(&b.ref)})
    CHECK(run_sample(*be, rep, v, bad) == want);
}

TEST_CASE("sample ops: sample follows the filtered softmax (chi-square over 6000 steps)") {
  Backends b;
  const std::vector<float> row = {1.0f, 2.0f, 0.5f, 3.0f, -1.0f, 2.5f, 0.0f, 1.5f};
  const int64_t v = static_cast<int64_t>(row.size());
  for (int top_k : {0, 4}) {
    const int n = 6000;
    std::vector<RowParams> rows;
    std::vector<float> logits;
    for (int s = 0; s < n; ++s) {
      rows.push_back({1.0f, 1.0f, 0.0f, static_cast<float>(top_k), 4242, static_cast<uint64_t>(s)});
      logits.insert(logits.end(), row.begin(), row.end());
    }
    const std::vector<int32_t> got = run_sample(b.fast, logits, v, rows);
    std::vector<double> p(row.size(), 0.0);
    std::vector<int> order = {3, 5, 1, 7, 0, 2, 6, 4};  // by logit
    double z = 0;
    for (int i = 0; i < (top_k ? top_k : v); ++i) z += (p[order[i]] = std::exp(row[order[i]]));
    std::vector<int> count(row.size(), 0);
    for (int32_t t : got) {
      CHECK(t >= 0 && t < v);
      if (t >= 0 && t < v) count[t]++;
    }
    double chi2 = 0;
    int df = -1;
    for (size_t i = 0; i < row.size(); ++i) {
      if (p[i] == 0) {
        CHECK_MSG(count[i] == 0, "top-k %d: token %zu drawn %d times", top_k, i, count[i]);
        continue;
      }
      const double e = p[i] / z * n;
      chi2 += (count[i] - e) * (count[i] - e) / e;
      ++df;
    }
    // 0.1 % critical values: df 3: 16.27, df 7: 24.32.
    const double crit = df == 3 ? 16.27 : 24.32;
    CHECK_MSG(chi2 < crit, "top-k %d: chi-square %.2f with %d degrees of freedom", top_k, chi2, df);
  }
}

TEST_CASE("sample ops: apply_token_mask keeps exactly the tokens the matcher's bitset allows") {
  Backends b;
  std::mt19937_64 rng(7);
  for (int64_t n_vocab : {1, 31, 33, 64, 1000, 4100}) {
    for (int64_t n_words : {(n_vocab + 31) / 32, (n_vocab + 63) / 64 * 2, (n_vocab + 31) / 32 / 2}) {
      const int64_t n_rows = 5;
      // The matcher's bitset: u64 words per row; the op's words are those read as i32 (little endian).
      const int64_t n64 = (n_words + 1) / 2;
      std::vector<uint64_t> bits(static_cast<size_t>(n_rows * n64));
      for (int64_t r = 0; r < n_rows; ++r)
        for (int64_t w = 0; w < n64; ++w)
          bits[r * n64 + w] = r == 0 ? 0 : r == 1 ? ~uint64_t{0} : r == 2 ? rng() & rng() : rng();
      std::vector<int32_t> words(static_cast<size_t>(n_rows * n_words));
      for (int64_t r = 0; r < n_rows && n_words > 0; ++r)  // no words: nothing to copy (and no element to address)
        std::memcpy(words.data() + r * n_words, bits.data() + r * n64, static_cast<size_t>(n_words) * 4);
      const std::vector<float> logits = randn(static_cast<size_t>(n_rows * n_vocab), 3, 1.0f);
      std::vector<float> expect = logits;
      for (int64_t r = 0; r < n_rows; ++r)
        for (int64_t i = 0; i < n_vocab; ++i) {
          const bool allowed = i < n_words * 32 && ((bits[r * n64 + i / 64] >> (i % 64)) & 1);
          if (!allowed) expect[r * n_vocab + i] = -INFINITY;
        }
      for (Backend* be : {static_cast<Backend*>(&b.fast), static_cast<Backend*>(&b.ref)}) {
        Tensor tl = make(*be, DType::kF32, {n_rows, n_vocab}, logits.data());
        Tensor tm = make(*be, DType::kI32, {n_rows, n_words}, words.data());
        CHECK(be->apply_token_mask(tl, tm).ok());
        std::vector<float> got(logits.size());
        CHECK(be->download(got.data(), tl, got.size() * 4).ok());
        CHECK_MSG(std::memcmp(got.data(), expect.data(), got.size() * 4) == 0, "%s vocab %lld words %lld",
                  be->name().c_str(), static_cast<long long>(n_vocab), static_cast<long long>(n_words));
        be->release(&tl);
        be->release(&tm);
      }
    }
  }
}

TEST_CASE("sample ops: wrong shapes and dtypes are INVALID_ARGUMENT") {
  Backends b;
  Backend& be = b.fast;
  Tensor l = make(be, DType::kF32, {2, 10}, nullptr), m = make(be, DType::kI32, {3, 1}, nullptr);
  Tensor out = make(be, DType::kI32, {2}, nullptr), out3 = make(be, DType::kI32, {3}, nullptr);
  Tensor p = make(be, DType::kF32, {2, 4}, nullptr), p3 = make(be, DType::kF32, {2, 3}, nullptr);
  Tensor r = make(be, DType::kI32, {2, 4}, nullptr), rf = make(be, DType::kF32, {2, 4}, nullptr);
  CHECK(be.apply_token_mask(l, m).code == Code::kInvalidArgument);
  CHECK(be.apply_token_mask(l, p).code == Code::kInvalidArgument);
  CHECK(be.sample(out3, l, p, r).code == Code::kInvalidArgument);
  CHECK(be.sample(out, l, p3, r).code == Code::kInvalidArgument);
  CHECK(be.sample(out, l, p, rf).code == Code::kInvalidArgument);
  CHECK(be.sample(out, p, l, r).code == Code::kInvalidArgument);
}
