// The dense ops on CUDA (emulated) against the CPU reference op: embedding, get_rows, rms_norm,
// add_rms_norm, matmul (tensor-core GEMM at cc 80, SIMT twin at cc 75, GEMV without batch
// invariance), rope, silu_mul; every schedule; odd shapes (1, 3, 113 rows; n_in / n_out 72, 113,
// 200: not multiples of 16 / 32 / 64, and 113 forces the element-load path); guard bytes; bitwise
// batch invariance; index data out of range.
//
// Error bounds (normalized error sum (a-b)^2 / sum b^2; the reference accumulates in f64):
//   matmul 1e-12. Tensor cores: x = hi + mid + lo exactly and every product is exact (f16 weights:
//     w = wh + wl exactly, lo*wl < 2^-24 |xw| dropped), so the only error is f32 accumulation,
//     ~2^-24 sqrt(steps) relative: nmse ~1e-14. SIMT and GEMV: f32 FMA chains, the same order.
//     A kernel that lost a term (e.g. only hi + mid, 2^-16 relative) lands near 1e-11 and fails.
//   rms_norm / add_rms_norm 1e-13: f64 sum of squares like the reference, products rounded in f32.
//   rope 1e-13: the same f32 angle and f64 cos/sin; only the rounding of the products differs, if at all.
//   silu_mul 1e-13: f32 expf and division against f64: a few ulps.
//   embedding / get_rows: exact (the conversions are exact).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../../native/tests/check.h"
#include "op-test.h"

namespace xlam::cuda_test {
namespace {

constexpr double kBoundMatmul = 1e-12, kBoundNorm = 1e-13, kBoundRope = 1e-13, kBoundSilu = 1e-13;
const DType kWeightTypes[] = {DType::kF32, DType::kF16, DType::kBF16};

std::string shape_name(const char* op, int64_t m, int64_t k, int64_t n, DType w, bool bias, int cc, bool inv,
                       const std::string& sched, uint32_t seed) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s m%lld k%lld n%lld w=%s%s cc%d%s sched=%s seed=%u", op, static_cast<long long>(m),
                static_cast<long long>(k), static_cast<long long>(n), dtype_name(w), bias ? " bias" : "", cc,
                inv ? "" : " non-invariant", sched.c_str(), seed);
  return buf;
}

bool bitwise_equal(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

// ---- matmul --------------------------------------------------------------------------------------

struct MatmulCase {
  int64_t m, k, n;
  DType w;
  bool bias;
  DType bias_type;
};

// out = x w^T (+ b) on CUDA under every schedule, against the CPU reference.
void check_matmul(WorstError& worst, const MatmulCase& mc, int cc, bool invariant, uint32_t seed) {
  const std::vector<float> x = randn(static_cast<size_t>(mc.m * mc.k), seed);
  const std::vector<float> w = randn(static_cast<size_t>(mc.n * mc.k), seed + 1, 0.1f);
  const std::vector<float> b = randn(static_cast<size_t>(mc.n), seed + 2);
  Oracle o;
  Tensor rout = o.f32({mc.m, mc.n}, std::vector<float>(static_cast<size_t>(mc.m * mc.n)));
  Tensor rb = o.weight(mc.bias_type, {mc.n}, b);
  CHECK(o.be.matmul(rout, o.f32({mc.m, mc.k}, x), o.weight(mc.w, {mc.n, mc.k}, w), mc.bias ? &rb : nullptr).ok());
  const std::vector<float> ref = o.read_f32(rout);
  for (const std::string& sched : schedules()) {
    CHECK_MSG(use_schedule(sched), "schedule %s refused", sched.c_str());
    const std::string what = shape_name("matmul", mc.m, mc.k, mc.n, mc.w, mc.bias, cc, invariant, sched, seed);
    Ctx c(cc, invariant);
    DevTensor dx = dev_f32({mc.m, mc.k}, x), dw = dev_weight(mc.w, {mc.n, mc.k}, w);
    DevTensor db = dev_weight(mc.bias_type, {mc.n}, b);
    DevTensor dout = dev(DType::kF32, {mc.m, mc.n});
    expect_ok(cuda::matmul(c.ctx, dout.t, dx.t, dw.t, mc.bias ? &db.t : nullptr), what);
    const char* path = !invariant && mc.m <= 8 ? "gemv" : cc >= 80 && mc.w != DType::kF32 ? "mma" : "simt";
    worst.close(read_f32(dout), ref, kBoundMatmul, what, std::string("matmul ") + path + " w=" + dtype_name(mc.w));
    expect_guards({&dx, &dw, &db, &dout}, what);
  }
}

TEST_CASE("dense: matmul m1/3/113 x k72/113/200 x n72/113/200, w f32/f16/bf16, bias f32/f16/bf16 or none, cc 75 + 80, "
          "3 schedules, seed 11") {
  WorstError worst;
  const MatmulCase cases[] = {
      {1, 72, 113, DType::kBF16, true, DType::kF32},   {3, 200, 72, DType::kF16, false, DType::kF32},
      {113, 113, 200, DType::kBF16, false, DType::kF32}, {113, 200, 72, DType::kF16, true, DType::kF16},
      {3, 113, 72, DType::kF32, true, DType::kBF16},   {113, 72, 113, DType::kF32, false, DType::kF32},
      {1, 113, 200, DType::kF16, false, DType::kF32},  {17, 200, 136, DType::kBF16, true, DType::kBF16},
  };
  for (const MatmulCase& mc : cases)
    for (int cc : {75, 80}) check_matmul(worst, mc, cc, true, 11);
}

TEST_CASE("dense: matmul GEMV (batch invariance off) m1/3/8 x k72/113/200 x n113/72, w f32/f16/bf16, cc 80, "
          "3 schedules, seed 12") {
  WorstError worst;
  const MatmulCase cases[] = {
      {1, 72, 113, DType::kBF16, true, DType::kF32}, {3, 113, 72, DType::kF16, false, DType::kF32},
      {8, 200, 113, DType::kF32, true, DType::kF16}, {1, 200, 72, DType::kF32, false, DType::kF32},
      {9, 72, 72, DType::kBF16, false, DType::kF32},  // past the GEMV's 8 rows: the GEMM
  };
  for (const MatmulCase& mc : cases) check_matmul(worst, mc, 80, false, 12);
}

TEST_CASE("dense: matmul batch invariance, bitwise: rows alone, in batches of 3 and of 113 (small and large tiles), "
          "w f32/f16/bf16, cc 75 + 80, k200 n113, forward schedule, seed 13") {
  const int64_t m = 113, k = 200, n = 113;
  const std::vector<float> x = randn(static_cast<size_t>(m * k), 13);
  const std::vector<float> w = randn(static_cast<size_t>(n * k), 14, 0.1f);
  const std::vector<float> b = randn(static_cast<size_t>(n), 15);
  CHECK(use_schedule(schedules()[0]));
  for (DType wt : kWeightTypes)
    for (int cc : {75, 80}) {
      const std::string what = shape_name("matmul invariance", m, k, n, wt, true, cc, true, schedules()[0], 13);
      Ctx c(cc, true);
      DevTensor dw = dev_weight(wt, {n, k}, w), db = dev_weight(DType::kBF16, {n}, b);
      auto run = [&](const std::vector<int>& rows) {
        std::vector<float> xs;
        for (int r : rows) xs.insert(xs.end(), x.begin() + r * k, x.begin() + (r + 1) * k);
        const int64_t mr = static_cast<int64_t>(rows.size());
        DevTensor dx = dev_f32({mr, k}, xs), dout = dev(DType::kF32, {mr, n});
        expect_ok(cuda::matmul(c.ctx, dout.t, dx.t, dw.t, &db.t), what);
        return read_f32(dout);
      };
      std::vector<int> all(m);
      for (int i = 0; i < m; ++i) all[i] = i;
      const std::vector<float> full = run(all);
      for (int r : {0, 1, 2, 57, 112}) {
        const std::vector<float> alone = run({r});
        CHECK_MSG(bitwise_equal(alone.data(), full.data() + r * n, n), "%s: row %d alone != in 113", what.c_str(), r);
        const std::vector<float> three = run({(r + 7) % 113, r, (r + 50) % 113});
        CHECK_MSG(bitwise_equal(three.data() + n, full.data() + r * n, n), "%s: row %d in 3 != in 113", what.c_str(),
                  r);
      }
    }
}

TEST_CASE("dense: matmul logits shape, one token over a 3,001-column vocabulary, k 96, w bf16/f16, cc 80, "
          "3 schedules, seed 16") {
  WorstError worst;
  for (DType wt : {DType::kBF16, DType::kF16}) check_matmul(worst, {1, 96, 3001, wt, false, DType::kF32}, 80, true, 16);
}

TEST_CASE("dense: matmul refuses bad shapes and dtypes like the CPU op") {
  Ctx c(80);
  DevTensor x = dev(DType::kF32, {3, 8}), w = dev(DType::kBF16, {4, 8}), out = dev(DType::kF32, {3, 4});
  DevTensor wbad = dev(DType::kBF16, {4, 7}), outbad = dev(DType::kF32, {3, 5}), xi = dev(DType::kI32, {3, 8});
  DevTensor bias_bad = dev(DType::kF32, {5});
  CHECK(cuda::matmul(c.ctx, out.t, x.t, w.t, nullptr).ok());
  CHECK(cuda::matmul(c.ctx, out.t, x.t, wbad.t, nullptr).code == Code::kInvalidArgument);
  CHECK(cuda::matmul(c.ctx, outbad.t, x.t, w.t, nullptr).code == Code::kInvalidArgument);
  CHECK(cuda::matmul(c.ctx, out.t, xi.t, w.t, nullptr).code == Code::kInvalidArgument);
  CHECK(cuda::matmul(c.ctx, out.t, x.t, w.t, &bias_bad.t).code == Code::kInvalidArgument);
}

// ---- embedding / get_rows ------------------------------------------------------------------------

TEST_CASE("dense: embedding table f32/f16/bf16 [50, 72] and [50, 300], 1/3/113 tokens, get_rows 1/3/113 of "
          "113 x 72, exact, 3 schedules, seed 21") {
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    for (DType wt : kWeightTypes)
      for (int64_t d : {72, 300})
        for (int64_t n : {1, 3, 113}) {
          const int64_t vocab = 50;
          const std::vector<float> table = randn(static_cast<size_t>(vocab * d), 21);
          std::vector<int32_t> ids(static_cast<size_t>(n));
          for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * 37 + 11) % vocab);
          Oracle o;
          Tensor rout = o.f32({n, d}, std::vector<float>(static_cast<size_t>(n * d)));
          CHECK(o.be.embedding(rout, o.weight(wt, {vocab, d}, table), o.i32({n}, ids)).ok());
          const std::string what = shape_name("embedding", n, d, vocab, wt, false, 80, true, sched, 21);
          Ctx c(80);
          DevTensor dt = dev_weight(wt, {vocab, d}, table), di = dev_i32({n}, ids), dout = dev(DType::kF32, {n, d});
          expect_ok(cuda::embedding(c.ctx, dout.t, dt.t, di.t), what);
          expect_close(read_f32(dout), o.read_f32(rout), 0.0, what);
          expect_guards({&dt, &di, &dout}, what);
        }
    for (int64_t n : {1, 3, 113}) {
      const int64_t rows = 113, d = 72;
      const std::vector<float> xs = randn(static_cast<size_t>(rows * d), 22);
      std::vector<int32_t> idx(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) idx[i] = static_cast<int32_t>((i * 53 + 112) % rows);
      Oracle o;
      Tensor rout = o.f32({n, d}, std::vector<float>(static_cast<size_t>(n * d)));
      CHECK(o.be.get_rows(rout, o.f32({rows, d}, xs), o.i32({n}, idx)).ok());
      const std::string what = shape_name("get_rows", n, d, rows, DType::kF32, false, 80, true, sched, 22);
      Ctx c(80);
      DevTensor dx = dev_f32({rows, d}, xs), di = dev_i32({n}, idx), dout = dev(DType::kF32, {n, d});
      expect_ok(cuda::get_rows(c.ctx, dout.t, dx.t, di.t), what);
      expect_close(read_f32(dout), o.read_f32(rout), 0.0, what);
      expect_guards({&dx, &di, &dout}, what);
    }
  }
}

TEST_CASE("dense: embedding and get_rows with ids out of range (-1, n, INT_MIN, INT_MAX): zero rows, no access "
          "outside the table, 3 schedules") {
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    const int64_t vocab = 7, d = 40;
    const std::vector<float> table = randn(static_cast<size_t>(vocab * d), 23);
    const std::vector<int32_t> ids = {3, -1, 7, INT32_MIN, INT32_MAX, 6};
    const int64_t n = static_cast<int64_t>(ids.size());
    Ctx c(80);
    for (int op = 0; op < 2; ++op) {
      const std::string what = std::string(op ? "get_rows" : "embedding") + " bad ids sched=" + sched;
      DevTensor dt = op ? dev_f32({vocab, d}, table) : dev_weight(DType::kBF16, {vocab, d}, table);
      DevTensor di = dev_i32({n}, ids), dout = dev(DType::kF32, {n, d});
      expect_ok(op ? cuda::get_rows(c.ctx, dout.t, dt.t, di.t) : cuda::embedding(c.ctx, dout.t, dt.t, di.t), what);
      const std::vector<float> got = read_f32(dout);
      const std::vector<uint8_t> tb = encode(table, DType::kBF16);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) {
          const bool valid = ids[i] >= 0 && ids[i] < vocab;
          float want = 0.f;
          if (valid) {
            if (op) {
              want = table[ids[i] * d + j];
            } else {
              uint16_t h;
              std::memcpy(&h, tb.data() + 2 * (ids[i] * d + j), 2);
              const uint32_t bits = static_cast<uint32_t>(h) << 16;
              std::memcpy(&want, &bits, 4);
            }
          }
          CHECK_MSG(got[i * d + j] == want, "%s: [%lld, %lld] = %g, expected %g", what.c_str(),
                    static_cast<long long>(i), static_cast<long long>(j), got[i * d + j], want);
        }
      expect_guards({&dt, &di, &dout}, what);
    }
  }
}

// ---- rms_norm / add_rms_norm ----------------------------------------------------------------------

TEST_CASE("dense: rms_norm and add_rms_norm, 1/3/113 rows x d 72/113/4100, weight f32/f16/bf16, residual updated in "
          "place, 3 schedules, seed 31") {
  WorstError worst;
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    for (DType wt : kWeightTypes)
      for (int64_t d : {72, 113, 4100})
        for (int64_t n : {1, 3, 113}) {
          if (d == 4100 && n == 113 && wt != DType::kBF16) continue;  // one large case is enough
          const float eps = 1e-6f;
          const std::vector<float> x = randn(static_cast<size_t>(n * d), 31, 3.0f);
          const std::vector<float> delta = randn(static_cast<size_t>(n * d), 32);
          std::vector<float> w = randn(static_cast<size_t>(d), 33);
          Oracle o;
          Tensor rw = o.weight(wt, {d}, w);
          Tensor rout = o.f32({n, d}, std::vector<float>(static_cast<size_t>(n * d)));
          Tensor rres = o.f32({n, d}, x);
          CHECK(o.be.rms_norm(rout, o.f32({n, d}, x), rw, eps).ok());
          const std::vector<float> ref_norm = o.read_f32(rout);
          CHECK(o.be.add_rms_norm(rout, rres, o.f32({n, d}, delta), rw, eps).ok());
          const std::vector<float> ref_add = o.read_f32(rout), ref_res = o.read_f32(rres);

          const std::string what = shape_name("rms_norm", n, d, d, wt, false, 80, true, sched, 31);
          Ctx c(80);
          DevTensor dx = dev_f32({n, d}, x), dd = dev_f32({n, d}, delta), dw = dev_weight(wt, {d}, w);
          DevTensor dout = dev(DType::kF32, {n, d});
          expect_ok(cuda::rms_norm(c.ctx, dout.t, dx.t, dw.t, eps), what);
          worst.close(read_f32(dout), ref_norm, kBoundNorm, what, std::string("rms_norm w=") + dtype_name(wt));
          expect_ok(cuda::add_rms_norm(c.ctx, dout.t, dx.t, dd.t, dw.t, eps), "add_" + what);
          worst.close(read_f32(dout), ref_add, kBoundNorm, "add_" + what,
                      std::string("add_rms_norm w=") + dtype_name(wt));
          expect_close(read_f32(dx), ref_res, 0.0, "add_" + what + " residual");
          expect_guards({&dx, &dd, &dw, &dout}, what);
        }
  }
}

TEST_CASE("dense: rms_norm and add_rms_norm batch invariance, bitwise: a row alone vs in 113 rows, d 200") {
  CHECK(use_schedule(schedules()[0]));
  const int64_t n = 113, d = 200;
  const std::vector<float> x = randn(static_cast<size_t>(n * d), 34), delta = randn(static_cast<size_t>(n * d), 35);
  const std::vector<float> w = randn(static_cast<size_t>(d), 36);
  Ctx c(80);
  DevTensor dw = dev_weight(DType::kBF16, {d}, w);
  DevTensor dx = dev_f32({n, d}, x), dd = dev_f32({n, d}, delta), dout = dev(DType::kF32, {n, d});
  expect_ok(cuda::add_rms_norm(c.ctx, dout.t, dx.t, dd.t, dw.t, 1e-5f), "add_rms_norm 113");
  const std::vector<float> full = read_f32(dout);
  for (int64_t r : {0, 56, 112}) {
    DevTensor x1 = dev_f32({1, d}, std::vector<float>(x.begin() + r * d, x.begin() + (r + 1) * d));
    DevTensor d1 = dev_f32({1, d}, std::vector<float>(delta.begin() + r * d, delta.begin() + (r + 1) * d));
    DevTensor o1 = dev(DType::kF32, {1, d});
    expect_ok(cuda::add_rms_norm(c.ctx, o1.t, x1.t, d1.t, dw.t, 1e-5f), "add_rms_norm 1");
    const std::vector<float> one = read_f32(o1);
    CHECK_MSG(bitwise_equal(one.data(), full.data() + r * d, d), "add_rms_norm row %lld alone != in 113",
              static_cast<long long>(r));
  }
}

// ---- rope -----------------------------------------------------------------------------------------

TEST_CASE("dense: rope 1/3/113 tokens x 3 heads x head_dim 64/72/128, positions up to 2^24 + 3 and negative, "
          "inv_freq base 1e4/1e6, attn_factor 1/1.2, 3 schedules, seed 41") {
  WorstError worst;
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    for (int64_t hd : {64, 72, 128})
      for (int64_t n : {1, 3, 113}) {
        const int64_t heads = 3, half = hd / 2;
        const double base = hd == 128 ? 1e6 : 1e4;
        const float attn = hd == 72 ? 1.2f : 1.0f;
        std::vector<float> freq(static_cast<size_t>(half));
        for (int64_t j = 0; j < half; ++j) freq[j] = static_cast<float>(1.0 / std::pow(base, 2.0 * j / hd));
        std::vector<int32_t> pos(static_cast<size_t>(n));
        const int32_t special[] = {0, 1, 4095, 32767, 131071, 1000003, (1 << 24) + 3, -5};
        for (int64_t i = 0; i < n; ++i) pos[i] = i < 8 ? special[(i + hd) % 8] : static_cast<int32_t>(i * 977 % 70000);
        const std::vector<float> x = randn(static_cast<size_t>(n * heads * hd), 41);
        Oracle o;
        Tensor rx = o.f32({n, heads, hd}, x);
        CHECK(o.be.rope(rx, o.i32({n}, pos), o.f32({half}, freq), attn).ok());
        const std::string what = shape_name("rope", n, heads, hd, DType::kF32, false, 80, true, sched, 41);
        Ctx c(80);
        DevTensor dx = dev_f32({n, heads, hd}, x), dp = dev_i32({n}, pos), df = dev_f32({half}, freq);
        expect_ok(cuda::rope(c.ctx, dx.t, dp.t, df.t, attn), what);
        worst.close(read_f32(dx), o.read_f32(rx), kBoundRope, what, "rope");
        expect_guards({&dx, &dp, &df}, what);
      }
  }
}

// ---- silu_mul -------------------------------------------------------------------------------------

TEST_CASE("dense: silu_mul 1/3/113 x 200 and 1 x 1, gates up to +-100, 3 schedules, seed 51") {
  WorstError worst;
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    for (int64_t n : {1, 3, 113})
      for (int64_t f : {200, 1}) {
        std::vector<float> g = randn(static_cast<size_t>(n * f), 51, 4.0f);
        const std::vector<float> u = randn(static_cast<size_t>(n * f), 52);
        if (g.size() > 4) g[0] = 100.f, g[1] = -100.f, g[2] = 0.f, g[3] = -0.5f;
        Oracle o;
        Tensor rout = o.f32({n, f}, std::vector<float>(static_cast<size_t>(n * f)));
        CHECK(o.be.silu_mul(rout, o.f32({n, f}, g), o.f32({n, f}, u)).ok());
        const std::string what = shape_name("silu_mul", n, f, f, DType::kF32, false, 80, true, sched, 51);
        Ctx c(80);
        DevTensor dg = dev_f32({n, f}, g), du = dev_f32({n, f}, u), dout = dev(DType::kF32, {n, f});
        expect_ok(cuda::silu_mul(c.ctx, dout.t, dg.t, du.t), what);
        worst.close(read_f32(dout), o.read_f32(rout), kBoundSilu, what, "silu_mul");
        expect_guards({&dg, &du, &dout}, what);
      }
  }
}

// ---- the bigger matrix (scripts run it with the "full:" filter) ----------------------------------

TEST_CASE("full: dense matmul matrix m1/3/16/17/113 x k72/113/200 x n72/113/200 x w f32/f16/bf16 x bias none/f32 x "
          "cc 75/80 x batch invariance on/off, 3 schedules, seed 61") {
  WorstError worst;
  for (int64_t m : {1, 3, 16, 17, 113})
    for (int64_t k : {72, 113, 200})
      for (int64_t n : {72, 113, 200})
        for (DType wt : kWeightTypes)
          for (bool bias : {false, true})
            for (int cc : {75, 80})
              for (bool inv : {true, false}) check_matmul(worst, {m, k, n, wt, bias, DType::kF32}, cc, inv, 61);
}

}  // namespace
}  // namespace xlam::cuda_test
