// apply_token_mask on CUDA (emulated) against the CPU reference op: exact (bit for bit: disallowed
// logits become -inf, the others keep their bits, NaN included), every schedule, odd vocabularies
// (1, 31, 33, 1000, a 151936 vocabulary padded to 152064), masks shorter and longer than the
// vocabulary, all-allowed and all-disallowed rows; guard bytes intact.
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../native/tests/check.h"
#include "op-test.h"

namespace xlam::cuda_test {
namespace {

std::vector<int32_t> bits_of(const std::vector<float>& v) {
  std::vector<int32_t> b(v.size());
  std::memcpy(b.data(), v.data(), v.size() * 4);
  return b;
}

// n_rows rows of n_vocab logits under n_words mask words: row 0 allows nothing, row 1 everything,
// the rest random bits (sparse in row 2, as a grammar's masks are).
void check_mask(int64_t n_rows, int64_t n_vocab, int64_t n_words, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> mask(static_cast<size_t>(n_rows * n_words));
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t w = 0; w < n_words; ++w) {
      const uint32_t a = rng(), b = rng();
      const uint32_t m = r == 0 ? 0u : r == 1 ? ~0u : r == 2 ? a & b & rng() : a;
      mask[r * n_words + w] = static_cast<int32_t>(m);
    }
  std::vector<float> logits = randn(static_cast<size_t>(n_rows * n_vocab), seed + 1);
  for (size_t i = 5; i < logits.size(); i += 97) logits[i] = NAN;  // allowed NaN stays NaN
  for (size_t i = 7; i < logits.size(); i += 89) logits[i] = -INFINITY;
  Oracle o;
  Tensor ol = o.f32({n_rows, n_vocab}, logits);
  expect_ok(o.be.apply_token_mask(ol, o.i32({n_rows, n_words}, mask)), "cpu apply_token_mask");
  const std::vector<int32_t> want = bits_of(o.read_f32(ol));
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    const std::string what = "apply_token_mask rows" + std::to_string(n_rows) + " vocab" + std::to_string(n_vocab) +
                             " words" + std::to_string(n_words) + " seed" + std::to_string(seed) + " " + sched;
    Ctx c;
    DevTensor tl = dev_f32({n_rows, n_vocab}, logits), tm = dev_i32({n_rows, n_words}, mask);
    expect_ok(cuda::apply_token_mask(c.ctx, tl.t, tm.t), what);
    expect_guards({&tl, &tm}, what);
    expect_equal(bits_of(read_f32(tl)), want, what);
  }
}

}  // namespace

TEST_CASE("token_mask: vocab 1/31/33/1000, words exact, short (tokens past them disallowed) and long, rows 1/4/5, "
          "schedules forward/reverse/random:12345, seed 1") {
  for (int64_t v : {1, 31, 33, 1000}) {
    const int64_t exact = (v + 31) / 32;
    check_mask(5, v, exact, 1);
    check_mask(4, v, exact / 2, 1);  // 0 words for v <= 63: every token disallowed
    check_mask(1, v, exact + 3, 1);
  }
}

TEST_CASE("token_mask: a 151936 vocabulary with its mask padded to 152064 tokens (4752 words), rows 3, schedules "
          "forward/reverse/random:12345, seed 2") {
  check_mask(3, 151936, 4752, 2);
}

TEST_CASE("full: token_mask: 151936 vocabulary, 64 rows, padded and short masks, schedules "
          "forward/reverse/random:12345, seed 3") {
  check_mask(64, 151936, 4752, 3);
  check_mask(9, 151936, 4000, 3);
}

TEST_CASE("token_mask: wrong shapes and dtypes are INVALID_ARGUMENT; no rows is a no-op") {
  Ctx c;
  DevTensor l = dev(DType::kF32, {2, 40}), m = dev(DType::kI32, {3, 2}), mf = dev(DType::kF32, {2, 2});
  CHECK(cuda::apply_token_mask(c.ctx, l.t, m.t).code == Code::kInvalidArgument);
  CHECK(cuda::apply_token_mask(c.ctx, l.t, mf.t).code == Code::kInvalidArgument);
  DevTensor l0 = dev(DType::kF32, {0, 40}), m0 = dev(DType::kI32, {0, 2});
  expect_ok(cuda::apply_token_mask(c.ctx, l0.t, m0.t), "no rows");
  expect_guards({&l0, &m0}, "no rows");
}

}  // namespace xlam::cuda_test
