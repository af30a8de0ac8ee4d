// test-backend-ops: every op of the fast CPU backend against the CPU reference backend (the
// oracle), on odd shapes, as llama.cpp's test-backend-ops does for each backend. Error bound:
// normalized MSE (sum (a-b)^2 / sum b^2) below 1e-7 per op; integer outputs compared exactly.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "../cpu/convert.h"
#include "../cpu/cpu-backend.h"
#include "check.h"

using namespace xlam;

namespace {

struct Pair {
  cpu::CpuBackend fast{cpu::CpuOptions{2, false}};
  cpu::CpuBackend ref{cpu::CpuOptions{1, true}};
};

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Host bytes of `values` stored as dtype (f32, f16 via bf16-free path, bf16).
std::vector<uint8_t> encode(const std::vector<float>& values, DType dtype) {
  std::vector<uint8_t> out(values.size() * dtype_size(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == DType::kF32) {
      std::memcpy(out.data() + i * 4, &values[i], 4);
    } else if (dtype == DType::kBF16) {
      uint16_t h = cpu::f32_to_bf16(values[i]);
      std::memcpy(out.data() + i * 2, &h, 2);
    } else {  // f16: round via float -> half (simple truncating encoder is enough for tests)
      float f = values[i];
      uint32_t b;
      std::memcpy(&b, &f, 4);
      uint32_t sign = (b >> 16) & 0x8000u;
      int32_t exp = static_cast<int32_t>((b >> 23) & 0xff) - 127 + 15;
      uint32_t mant = (b >> 13) & 0x3ffu;
      uint16_t h = exp <= 0 ? static_cast<uint16_t>(sign) : exp >= 31 ? static_cast<uint16_t>(sign | 0x7c00u)
                                                                   : static_cast<uint16_t>(sign | exp << 10 | mant);
      std::memcpy(out.data() + i * 2, &h, 2);
    }
  }
  return out;
}

// A tensor on a backend holding given host bytes.
Tensor make(Backend& be, DType dtype, const Shape& shape, const void* bytes) {
  Tensor t;
  CHECK(be.alloc(dtype, shape, &t).ok());
  if (bytes) CHECK(be.upload(t, bytes, t.nbytes()).ok());
  else std::memset(t.data, 0, t.nbytes());
  return t;
}
Tensor make_f32(Backend& be, const Shape& shape, const std::vector<float>& v) {
  return make(be, DType::kF32, shape, v.data());
}
Tensor make_i32(Backend& be, const Shape& shape, const std::vector<int32_t>& v) {
  return make(be, DType::kI32, shape, v.data());
}

std::vector<float> read_f32(Backend& be, const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  CHECK(be.download(v.data(), t, v.size() * 4).ok());
  return v;
}

double nmse(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
    double d = static_cast<double>(a[i]) - b[i];
    num += d * d;
    den += static_cast<double>(b[i]) * b[i];
  }
  return den == 0 ? num : num / den;
}

#define CHECK_CLOSE(fast, ref, what)                                                      \
  do {                                                                                    \
    double e_ = nmse(fast, ref);                                                          \
    CHECK_MSG((fast).size() == (ref).size() && e_ < 1e-7, "%s: nmse %.3g", what, e_);     \
  } while (0)

const DType kWeightTypes[] = {DType::kF32, DType::kF16, DType::kBF16};

}  // namespace

TEST_CASE("ops: embedding and get_rows match reference") {
  Pair p;
  for (DType dt : kWeightTypes)
    for (int64_t n : {1, 3, 113}) {
      const int64_t vocab = 37, d = 64;
      auto table = encode(randn(vocab * d, 1), dt);
      std::vector<int32_t> ids(n);
      for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * 7 + 3) % vocab);
      std::vector<float> outs[2];
      int k = 0;
      for (Backend* be : {static_cast<Backend*>(&p.fast), static_cast<Backend*>(&p.ref)}) {
        Tensor tb = make(*be, dt, {vocab, d}, table.data()), ti = make_i32(*be, {n}, ids);
        Tensor out = make(*be, DType::kF32, {n, d}, nullptr);
        CHECK(be->embedding(out, tb, ti).ok());
        outs[k++] = read_f32(*be, out);
      }
      CHECK(outs[0] == outs[1]);
      // And against the table itself.
      CHECK(n == 1 || outs[1][d] == cpu::load_f32(table.data(), dt, ids[1] * d));
    }
  // Out-of-range ids are an error, not a crash.
  Tensor tb = make_f32(p.fast, {4, 8}, randn(32, 2)), ti = make_i32(p.fast, {1}, {9});
  Tensor out = make(p.fast, DType::kF32, {1, 8}, nullptr);
  CHECK(p.fast.embedding(out, tb, ti).code == Code::kInvalidArgument);
  Tensor rows = make_i32(p.fast, {1}, {5});
  CHECK(p.fast.get_rows(out, tb, rows).code == Code::kInvalidArgument);
}

TEST_CASE("ops: rms_norm and add_rms_norm match reference") {
  Pair p;
  for (DType dt : kWeightTypes)
    for (int64_t n : {1, 3, 113})
      for (int64_t d : {64, 100}) {
        auto x = randn(n * d, 3), delta = randn(n * d, 4);
        std::vector<float> w = randn(d, 5, 0.1f);
        for (float& v : w) v += 1.0f;
        auto wb = encode(w, dt);
        std::vector<float> o1[2], o2[2], res[2];
        int k = 0;
        for (Backend* be : {static_cast<Backend*>(&p.fast), static_cast<Backend*>(&p.ref)}) {
          Tensor tx = make_f32(*be, {n, d}, x), tw = make(*be, dt, {d}, wb.data());
          Tensor td = make_f32(*be, {n, d}, delta), out = make(*be, DType::kF32, {n, d}, nullptr);
          CHECK(be->rms_norm(out, tx, tw, 1e-6f).ok());
          o1[k] = read_f32(*be, out);
          CHECK(be->add_rms_norm(out, tx, td, tw, 1e-5f).ok());
          o2[k] = read_f32(*be, out);
          res[k] = read_f32(*be, tx);
          ++k;
        }
        CHECK_CLOSE(o1[0], o1[1], "rms_norm");
        CHECK_CLOSE(o2[0], o2[1], "add_rms_norm");
        CHECK(res[0] == res[1]);  // the residual add is one f32 add either way
      }
  // Hand-computed: x = [3, 4], w = 1 -> x / sqrt(12.5).
  Tensor tx = make_f32(p.ref, {1, 2}, {3, 4}), tw = make_f32(p.ref, {2}, {1, 1}), out = make(p.ref, DType::kF32, {1, 2}, nullptr);
  CHECK(p.ref.rms_norm(out, tx, tw, 0.0f).ok());
  auto o = read_f32(p.ref, out);
  CHECK(std::fabs(o[0] - 3 / std::sqrt(12.5f)) < 1e-6f && std::fabs(o[1] - 4 / std::sqrt(12.5f)) < 1e-6f);
}

// The instruction sets whose kernels this machine runs (generic always).
std::vector<cpu::Isa> runnable_isas() {
  std::vector<cpu::Isa> out;
  for (cpu::Isa isa : {cpu::Isa::kGeneric, cpu::Isa::kAvx2, cpu::Isa::kAvx512, cpu::Isa::kAmx})
    if (cpu::isa_supported(isa)) out.push_back(isa);
  return out;
}

cpu::CpuOptions fast_options(cpu::Isa isa) {
  cpu::CpuOptions o{2, false};
  o.isa = isa;
  return o;
}

TEST_CASE("ops: matmul matches reference for every instruction set and weight dtype, with and without bias") {
  cpu::CpuBackend ref(cpu::CpuOptions{1, true});
  for (cpu::Isa isa : runnable_isas()) {
    cpu::CpuBackend fast(fast_options(isa));
    CHECK(fast.isa() == isa);
    for (DType dt : kWeightTypes)
      for (int64_t n : {1, 3, 113})
        for (auto [n_out, n_in] : {std::pair<int64_t, int64_t>{64, 64}, {37, 100}, {129, 7}, {5, 1000}})
          for (bool with_bias : {false, true}) {
            auto x = randn(n * n_in, 6);
            auto w = encode(randn(n_out * n_in, 7, 0.2f), dt), b = encode(randn(n_out, 8), dt);
            std::vector<float> outs[2];
            int k = 0;
            for (Backend* be : {static_cast<Backend*>(&fast), static_cast<Backend*>(&ref)}) {
              Tensor tx = make_f32(*be, {n, n_in}, x), tw = make(*be, dt, {n_out, n_in}, w.data());
              Tensor tb = make(*be, dt, {n_out}, b.data()), out = make(*be, DType::kF32, {n, n_out}, nullptr);
              CHECK(be->matmul(out, tx, tw, with_bias ? &tb : nullptr).ok());
              outs[k++] = read_f32(*be, out);
            }
            // f32-accurate (an f32 dot product's rounding only), beyond the op tolerance: this
            // is what tells AMX's three bf16 terms per x value from a cheaper split.
            const double e = nmse(outs[0], outs[1]);
            CHECK_MSG(e < 1e-12, "%s: matmul nmse %.3g", cpu::isa_name(isa), e);
          }
  }
}

TEST_CASE("ops: fast matmul is batch-invariant (bitwise) for every instruction set") {
  // 113 tokens cover full register tiles and every remainder; n_in 5000 spans several token
  // blocks and a partial vector; n_out 77 leaves partial row tiles and panels. Each token is
  // recomputed alone, and runs of 7 and 12 tokens (AMX: 2 and 3 column tiles, partly filled).
  for (cpu::Isa isa : runnable_isas())
    for (DType dt : kWeightTypes)
      for (int64_t n_in : {96, 5000}) {
        cpu::CpuBackend be(fast_options(isa));
        const int64_t n = 113, n_out = 77;
        auto x = randn(n * n_in, 9);
        auto w = encode(randn(n_out * n_in, 10), dt), b = encode(randn(n_out, 11), dt);
        Tensor tx = make_f32(be, {n, n_in}, x), tw = make(be, dt, {n_out, n_in}, w.data());
        Tensor tb = make(be, dt, {n_out}, b.data()), all = make(be, DType::kF32, {n, n_out}, nullptr);
        CHECK(be.matmul(all, tx, tw, &tb).ok());
        auto full = read_f32(be, all);
        for (auto [t, m] : {std::pair<int64_t, int64_t>{0, 1}, {5, 1}, {47, 1}, {48, 1}, {112, 1}, {40, 7}, {100, 12}}) {
          std::vector<float> rows(x.begin() + t * n_in, x.begin() + (t + m) * n_in);
          Tensor tr = make_f32(be, {m, n_in}, rows), part = make(be, DType::kF32, {m, n_out}, nullptr);
          CHECK(be.matmul(part, tr, tw, &tb).ok());
          auto got = read_f32(be, part);
          CHECK_MSG(std::equal(got.begin(), got.end(), full.begin() + t * n_out), "%s: tokens %lld..%lld",
                    cpu::isa_name(isa), static_cast<long long>(t), static_cast<long long>(t + m - 1));
        }
      }
}

TEST_CASE("ops: matmul carries Inf and NaN in x as the reference does, for every instruction set") {
  // Row 0: one +Inf (outputs +-Inf by the weight's sign); row 1: a NaN; row 2: +Inf and -Inf
  // (Inf or NaN by the signs); row 3: floats beyond bf16's range, which must stay finite terms.
  cpu::CpuBackend ref(cpu::CpuOptions{1, true});
  const int64_t n = 4, n_in = 64, n_out = 40;
  const float inf = INFINITY, big = 3.4e38f;  // above bf16's largest finite value
  std::vector<float> x(n * n_in, 0.25f);
  x[0 * n_in + 3] = inf;
  x[1 * n_in + 2] = NAN;
  x[2 * n_in + 0] = inf, x[2 * n_in + 1] = -inf;
  for (int64_t k = 0; k < n_in; ++k) x[3 * n_in + k] = k % 2 ? big : -big;
  for (cpu::Isa isa : runnable_isas())
    for (DType dt : kWeightTypes) {
      cpu::CpuBackend fast(fast_options(isa));
      auto w = encode(randn(n_out * n_in, 12, 1e-3f), dt);
      std::vector<float> outs[2];
      int i = 0;
      for (Backend* be : {static_cast<Backend*>(&fast), static_cast<Backend*>(&ref)}) {
        Tensor tx = make_f32(*be, {n, n_in}, x), tw = make(*be, dt, {n_out, n_in}, w.data());
        Tensor out = make(*be, DType::kF32, {n, n_out}, nullptr);
        CHECK(be->matmul(out, tx, tw, nullptr).ok());
        outs[i++] = read_f32(*be, out);
      }
      for (int64_t j = 0; j < 3 * n_out; ++j) {
        const float a = outs[0][j], b = outs[1][j];
        CHECK_MSG(std::isnan(a) == std::isnan(b) && (!std::isinf(b) || a == b), "%s: out[%lld] = %g, reference %g",
                  cpu::isa_name(isa), static_cast<long long>(j), a, b);
      }
      for (int64_t j = 3 * n_out; j < n * n_out; ++j)
        CHECK_MSG(std::isfinite(outs[0][j]) && std::fabs(outs[0][j] - outs[1][j]) <= 1e-3f * std::fabs(outs[1][j]) + 1e30f,
                  "%s: out[%lld] = %g, reference %g", cpu::isa_name(isa), static_cast<long long>(j), outs[0][j], outs[1][j]);
    }
}

TEST_CASE("ops: instruction-set names parse back; unsupported ones fall back to the detected set") {
  for (cpu::Isa isa : {cpu::Isa::kAuto, cpu::Isa::kGeneric, cpu::Isa::kAvx2, cpu::Isa::kAvx512, cpu::Isa::kAmx}) {
    cpu::Isa parsed;
    CHECK(cpu::parse_isa(cpu::isa_name(isa), &parsed) && parsed == isa);
  }
  cpu::Isa parsed;
  CHECK(!cpu::parse_isa("sse9", &parsed));
  CHECK(cpu::isa_supported(cpu::detect_isa()));
  CHECK(cpu::CpuBackend(fast_options(cpu::Isa::kAuto)).isa() == cpu::detect_isa());
}

TEST_CASE("ops: rope matches reference; position 0 is the identity") {
  Pair p;
  for (int64_t hd : {64, 128})
    for (int64_t n : {1, 3, 113}) {
      const int64_t heads = 3;
      auto x = randn(n * heads * hd, 11);
      std::vector<int32_t> pos(n);
      for (int64_t i = 0; i < n; ++i) pos[i] = static_cast<int32_t>(i * 37 % 4000);
      std::vector<float> inv(hd / 2);
      for (int64_t i = 0; i < hd / 2; ++i) inv[i] = 1.0f / std::pow(10000.0f, 2.0f * i / hd);
      std::vector<float> outs[2];
      int k = 0;
      for (Backend* be : {static_cast<Backend*>(&p.fast), static_cast<Backend*>(&p.ref)}) {
        Tensor tx = make_f32(*be, {n, heads, hd}, x), tp = make_i32(*be, {n}, pos), tf = make_f32(*be, {hd / 2}, inv);
        CHECK(be->rope(tx, tp, tf, 1.0f).ok());
        outs[k++] = read_f32(*be, tx);
      }
      CHECK_CLOSE(outs[0], outs[1], "rope");
      CHECK(std::equal(outs[1].begin(), outs[1].begin() + heads * hd, x.begin()));  // pos[0] = 0
    }
}

TEST_CASE("ops: silu_mul matches reference") {
  Pair p;
  for (int64_t n : {1, 3, 113}) {
    const int64_t ff = 96;
    auto g = randn(n * ff, 12, 3.0f), u = randn(n * ff, 13);
    std::vector<float> outs[2];
    int k = 0;
    for (Backend* be : {static_cast<Backend*>(&p.fast), static_cast<Backend*>(&p.ref)}) {
      Tensor tg = make_f32(*be, {n, ff}, g), tu = make_f32(*be, {n, ff}, u), out = make(*be, DType::kF32, {n, ff}, nullptr);
      CHECK(be->silu_mul(out, tg, tu).ok());
      outs[k++] = read_f32(*be, out);
    }
    CHECK_CLOSE(outs[0], outs[1], "silu_mul");
  }
}

namespace {

// Fills a paged cache for sequences of the given lengths through scattered block tables, then
// runs attention for the last `n_new` positions of every sequence; returns the outputs.
std::vector<float> run_attention(Backend& be, int64_t hd, int64_t n_head, int64_t n_kv, const std::vector<int64_t>& lens,
                                 int64_t n_new, int32_t window, std::vector<int32_t>* table_out) {
  const int64_t bs = 16;
  int64_t max_blocks = 0, total_blocks = 0;
  for (int64_t L : lens) {
    max_blocks = std::max(max_blocks, (L + bs - 1) / bs);
    total_blocks += (L + bs - 1) / bs;
  }
  const int64_t n_blocks = total_blocks + 5;
  // Scatter: a fixed permutation of the block pool.
  std::vector<int32_t> perm(n_blocks);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(42));
  std::vector<int32_t> tables(lens.size() * max_blocks, -1);
  int64_t next = 0;
  for (size_t s = 0; s < lens.size(); ++s)
    for (int64_t b = 0; b < (lens[s] + bs - 1) / bs; ++b) tables[s * max_blocks + b] = perm[next++];
  if (table_out) *table_out = tables;
  Tensor kc = make(be, DType::kF32, {n_blocks, bs, n_kv, hd}, nullptr), vc = make(be, DType::kF32, {n_blocks, bs, n_kv, hd}, nullptr);
  // Write all positions of all sequences.
  std::vector<int32_t> slots, seq, pos;
  for (size_t s = 0; s < lens.size(); ++s)
    for (int64_t i = 0; i < lens[s]; ++i) {
      slots.push_back(tables[s * max_blocks + i / bs] * bs + i % bs);
      seq.push_back(static_cast<int32_t>(s));
      pos.push_back(static_cast<int32_t>(i));
    }
  slots.push_back(-1);  // padding is skipped
  const int64_t n_all = static_cast<int64_t>(slots.size());
  auto k = randn(n_all * n_kv * hd, 20), v = randn(n_all * n_kv * hd, 21);
  Tensor tk = make_f32(be, {n_all, n_kv, hd}, k), tv = make_f32(be, {n_all, n_kv, hd}, v), ts = make_i32(be, {n_all}, slots);
  CHECK(be.kv_write(kc, vc, tk, tv, ts).ok());
  // Queries: the last n_new positions of every sequence.
  std::vector<int32_t> qseq, qpos;
  for (size_t s = 0; s < lens.size(); ++s)
    for (int64_t i = std::max<int64_t>(0, lens[s] - n_new); i < lens[s]; ++i) {
      qseq.push_back(static_cast<int32_t>(s));
      qpos.push_back(static_cast<int32_t>(i));
    }
  const int64_t nq = static_cast<int64_t>(qseq.size());
  auto q = randn(nq * n_head * hd, 22);
  Tensor tq = make_f32(be, {nq, n_head, hd}, q), out = make(be, DType::kF32, {nq, n_head, hd}, nullptr);
  Tensor tt = make_i32(be, {static_cast<int64_t>(lens.size()), max_blocks}, tables);
  Tensor tqs = make_i32(be, {nq}, qseq), tqp = make_i32(be, {nq}, qpos);
  CHECK(be.attention(out, tq, kc, vc, tt, tqs, tqp, 1.0f / std::sqrt(static_cast<float>(hd)), window).ok());
  return read_f32(be, out);
}

}  // namespace

TEST_CASE("ops: paged attention matches reference for every instruction set (head dims, GQA, windows, batches)") {
  cpu::CpuBackend ref(cpu::CpuOptions{1, true});
  for (cpu::Isa isa : runnable_isas()) {
    cpu::CpuBackend fast(fast_options(isa));
    for (int64_t hd : {40, 64, 128, 200})
      for (int64_t group : {1, 4, 6})
        for (auto lens : {std::vector<int64_t>{1}, std::vector<int64_t>{3}, std::vector<int64_t>{113},
                          std::vector<int64_t>{113, 3, 40}})
          for (int32_t window : {0, 17}) {
            const int64_t n_kv = 2, n_head = n_kv * group;
            auto f = run_attention(fast, hd, n_head, n_kv, lens, 113, window, nullptr);
            auto r = run_attention(ref, hd, n_head, n_kv, lens, 113, window, nullptr);
            CHECK_CLOSE(f, r, cpu::isa_name(isa));
          }
  }
}

TEST_CASE("ops: fast attention is batch-invariant (bitwise) for every instruction set") {
  // The first sequence's queries, alone and beside two others (its cache blocks land elsewhere).
  for (cpu::Isa isa : runnable_isas()) {
    cpu::CpuBackend be(fast_options(isa));
    for (int64_t hd : {40, 128}) {
      const int64_t n_kv = 2, n_head = 12;
      auto alone = run_attention(be, hd, n_head, n_kv, {113}, 113, 0, nullptr);
      auto batch = run_attention(be, hd, n_head, n_kv, {113, 3, 40}, 113, 0, nullptr);
      CHECK(std::equal(alone.begin(), alone.end(), batch.begin()));
    }
  }
}

TEST_CASE("ops: attention over one position returns V; bad tables are errors") {
  cpu::CpuBackend be(cpu::CpuOptions{1, true});
  const int64_t hd = 4;
  Tensor kc = make(be, DType::kF32, {2, 16, 1, hd}, nullptr), vc = make(be, DType::kF32, {2, 16, 1, hd}, nullptr);
  Tensor k = make_f32(be, {1, 1, hd}, {1, 2, 3, 4}), v = make_f32(be, {1, 1, hd}, {5, 6, 7, 8});
  Tensor slot = make_i32(be, {1}, {16});  // block 1, offset 0
  CHECK(be.kv_write(kc, vc, k, v, slot).ok());
  Tensor q = make_f32(be, {1, 1, hd}, {0.5f, -1, 2, 0}), out = make(be, DType::kF32, {1, 1, hd}, nullptr);
  Tensor table = make_i32(be, {1, 1}, {1}), seq = make_i32(be, {1}, {0}), pos = make_i32(be, {1}, {0});
  CHECK(be.attention(out, q, kc, vc, table, seq, pos, 0.5f, 0).ok());
  CHECK(read_f32(be, out) == std::vector<float>({5, 6, 7, 8}));
  Tensor bad_table = make_i32(be, {1, 1}, {7});
  CHECK(be.attention(out, q, kc, vc, bad_table, seq, pos, 0.5f, 0).code == Code::kInvalidArgument);
  Tensor far = make_i32(be, {1}, {20});
  CHECK(be.attention(out, q, kc, vc, table, seq, far, 0.5f, 0).code == Code::kInvalidArgument);
  Tensor bad_slot = make_i32(be, {1}, {32});
  CHECK(be.kv_write(kc, vc, k, v, bad_slot).code == Code::kInvalidArgument);
}

TEST_CASE("ops: moe_route and moe_experts match reference (top-1 and top-2)") {
  Pair p;
  for (int64_t top_k : {1, 2})
    for (int64_t n : {1, 3, 113})
      for (DType dt : {DType::kF32, DType::kBF16}) {
        const int64_t n_exp = 4, d = 64, ff = 48;
        auto logits = randn(n * n_exp, 30, 2.0f), x = randn(n * d, 31);
        std::vector<std::vector<uint8_t>> w;
        for (int64_t e = 0; e < n_exp; ++e) {
          w.push_back(encode(randn(ff * d, 40 + e, 0.2f), dt));
          w.push_back(encode(randn(ff * d, 50 + e, 0.2f), dt));
          w.push_back(encode(randn(d * ff, 60 + e, 0.2f), dt));
        }
        std::vector<int32_t> ids[2];
        std::vector<float> wts[2], outs[2];
        int k = 0;
        for (Backend* be : {static_cast<Backend*>(&p.fast), static_cast<Backend*>(&p.ref)}) {
          Tensor tl = make_f32(*be, {n, n_exp}, logits), tx = make_f32(*be, {n, d}, x);
          Tensor ti = make(*be, DType::kI32, {n, top_k}, nullptr), tw = make(*be, DType::kF32, {n, top_k}, nullptr);
          CHECK(be->moe_route(ti, tw, tl).ok());
          ids[k].resize(n * top_k);
          CHECK(be->download(ids[k].data(), ti, ids[k].size() * 4).ok());
          wts[k] = read_f32(*be, tw);
          std::vector<ExpertWeights> ex(n_exp);
          for (int64_t e = 0; e < n_exp; ++e) {
            ex[e].w1 = make(*be, dt, {ff, d}, w[3 * e].data());
            ex[e].w3 = make(*be, dt, {ff, d}, w[3 * e + 1].data());
            ex[e].w2 = make(*be, dt, {d, ff}, w[3 * e + 2].data());
          }
          Tensor out = make(*be, DType::kF32, {n, d}, nullptr);
          CHECK(be->moe_experts(out, tx, ti, tw, ex.data(), static_cast<int32_t>(n_exp)).ok());
          outs[k++] = read_f32(*be, out);
        }
        CHECK(ids[0] == ids[1]);
        CHECK(wts[0] == wts[1]);
        CHECK_CLOSE(outs[0], outs[1], "moe_experts");
        // Routing picks the largest logits and its weights sum to 1.
        for (int64_t t = 0; t < n; ++t) {
          const float* row = logits.data() + t * n_exp;
          CHECK(ids[1][t * top_k] == std::max_element(row, row + n_exp) - row);
          float s = 0;
          for (int64_t j = 0; j < top_k; ++j) s += wts[1][t * top_k + j];
          CHECK(std::fabs(s - 1.0f) < 1e-6f);
        }
      }
}
