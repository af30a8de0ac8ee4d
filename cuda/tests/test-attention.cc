// attention on CUDA (emulated) against the CPU reference op: decode (split-KV + merge) and prefill
// paths, tensor cores (cc 80) and the SIMT twin (cc 75), every schedule, scattered block tables,
// partial blocks, sliding windows, GQA, mixed batches; bitwise batch invariance; the prefill kernel
// standing in for decode + merge over the scratch budget, bitwise the same; index data out of
// range (no access outside the tensors; zeros / masked keys as attention.cu documents).
//
// Error bound: normalized error sum (a-b)^2 / sum b^2 <= 1e-9 on tensor cores, 1e-11 on SIMT.
// 3xBF16 keeps about 16 mantissa bits per product (|x - hi - lo| <= 2^-17 |x|, the dropped lo*lo
// <= 2^-18 |xy|), so scores carry a relative error near 2^-16 (1.5e-5) in the worst case and about
// 1e-6 on random data; probabilities inherit it, outputs average it: nmse ~1e-12 expected, 1e-9
// leaves three orders for unlucky draws. SIMT is f32 FMA chains against an f64 reference: ~1e-14.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "../../native/tests/check.h"
#include "op-test.h"
#if defined(CUDA_EMU)
#include "../emu/api.h"
#endif

namespace xlam::cuda_test {
namespace {

constexpr double kBoundTc = 1e-9, kBoundSimt = 1e-11;

// Deterministic values from (tag, indices): a sequence's K/V/Q do not depend on where its blocks
// land or what else is in the batch, so one sequence can be compared across batches.
float value(uint32_t tag, uint32_t a, uint32_t b, uint32_t c, float scale) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t{tag} << 40) ^ (uint64_t{a} << 20) ^ (uint64_t{b} << 10) ^ c;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return scale * (static_cast<float>(h >> 40) / static_cast<float>(1u << 24) * 2.0f - 1.0f);
}

struct SeqSpec {
  int len;         // cached positions 0 .. len-1
  int n_new;       // queries at the last n_new positions
  uint32_t tag;    // content seed
};

struct Scene {
  int head_dim = 64, n_kv = 2, group = 4, block_size = 16, window = 0;
  std::vector<SeqSpec> seqs;
  bool interleave = false;  // shuffle the query tokens (mixed batches in any order)
  uint32_t seed = 1;        // block placement and token order
  float q_scale = 1.0f;
  // Built by build():
  int n_blocks = 0, max_blocks = 0, n_tokens = 0;
  std::vector<int32_t> tables, token_seq, positions;
  std::vector<float> kc, vc, q;

  int n_heads() const { return n_kv * group; }
  std::string name() const {
    std::string s = "hd" + std::to_string(head_dim) + " kv" + std::to_string(n_kv) + " gqa" + std::to_string(group) +
                    " bs" + std::to_string(block_size) + " win" + std::to_string(window) + " seqs{";
    for (size_t i = 0; i < seqs.size(); ++i)
      s += (i ? "," : "") + std::to_string(seqs[i].len) + "/" + std::to_string(seqs[i].n_new);
    return s + "} tokens" + std::to_string(n_tokens) + (interleave ? " shuffled" : "") + " seed" + std::to_string(seed);
  }

  void build() {
    std::mt19937 rng(seed);
    int total = 0;
    max_blocks = 1;
    for (const SeqSpec& s : seqs) {
      const int nb = (s.len + block_size - 1) / block_size;
      total += nb;
      max_blocks = std::max(max_blocks, nb + 1);  // a trailing unused (-1) entry in every row
    }
    n_blocks = total + 7;
    std::vector<int32_t> pool(n_blocks);
    std::iota(pool.begin(), pool.end(), 0);
    std::shuffle(pool.begin(), pool.end(), rng);  // scattered, non-contiguous tables
    tables.assign(seqs.size() * max_blocks, -1);
    const size_t row = static_cast<size_t>(n_kv) * head_dim;
    kc.assign(static_cast<size_t>(n_blocks) * block_size * row, NAN);  // unwritten slots are NaN
    vc = kc;
    int next = 0;
    for (size_t s = 0; s < seqs.size(); ++s) {
      for (int b = 0; b < (seqs[s].len + block_size - 1) / block_size; ++b) tables[s * max_blocks + b] = pool[next++];
      for (int p = 0; p < seqs[s].len; ++p) {
        const size_t slot = static_cast<size_t>(tables[s * max_blocks + p / block_size]) * block_size + p % block_size;
        for (int h = 0; h < n_kv; ++h)
          for (int d = 0; d < head_dim; ++d) {
            kc[slot * row + h * head_dim + d] = value(seqs[s].tag, p, 2 * h, d, 1.0f);
            vc[slot * row + h * head_dim + d] = value(seqs[s].tag, p, 2 * h + 1, d, 1.0f);
          }
      }
    }
    token_seq.clear();
    positions.clear();
    for (size_t s = 0; s < seqs.size(); ++s)
      for (int p = seqs[s].len - seqs[s].n_new; p < seqs[s].len; ++p) {
        token_seq.push_back(static_cast<int32_t>(s));
        positions.push_back(p);
      }
    n_tokens = static_cast<int>(token_seq.size());
    if (interleave) {
      std::vector<int> order(n_tokens);
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng);
      std::vector<int32_t> ts(n_tokens), ps(n_tokens);
      for (int i = 0; i < n_tokens; ++i) {
        ts[i] = token_seq[order[i]];
        ps[i] = positions[order[i]];
      }
      token_seq = ts;
      positions = ps;
    }
    q.resize(static_cast<size_t>(n_tokens) * n_heads() * head_dim);
    for (int t = 0; t < n_tokens; ++t)
      for (int h = 0; h < n_heads(); ++h)
        for (int d = 0; d < head_dim; ++d)
          q[(static_cast<size_t>(t) * n_heads() + h) * head_dim + d] =
              value(seqs[token_seq[t]].tag + 1000, positions[t], h, d, q_scale);
  }
  float scale() const { return 1.0f / std::sqrt(static_cast<float>(head_dim)); }
  Shape q_shape() const { return {n_tokens, n_heads(), head_dim}; }
  Shape cache_shape() const { return {n_blocks, block_size, n_kv, head_dim}; }
};

std::vector<float> run_reference(const Scene& sc) {
  Oracle o;
  Tensor out = o.host(DType::kF32, sc.q_shape(), nullptr);
  const Status st = o.be.attention(out, o.f32(sc.q_shape(), sc.q), o.f32(sc.cache_shape(), sc.kc),
                                   o.f32(sc.cache_shape(), sc.vc),
                                   o.i32({static_cast<int64_t>(sc.seqs.size()), sc.max_blocks}, sc.tables),
                                   o.i32({sc.n_tokens}, sc.token_seq), o.i32({sc.n_tokens}, sc.positions), sc.scale(),
                                   sc.window);
  expect_ok(st, "cpu reference " + sc.name());
  return o.read_f32(out);
}

// The CUDA op on the scene under the current schedule; checks the status and every guard.
std::vector<float> run_cuda(const Scene& sc, int cc, bool invariant, const std::string& what,
                            size_t scratch_budget = cuda::Context{}.scratch_budget) {
  Ctx c(cc, invariant);
  c.ctx.scratch_budget = scratch_budget;
  DevTensor out = dev(DType::kF32, sc.q_shape());
  DevTensor q = dev_f32(sc.q_shape(), sc.q), kc = dev_f32(sc.cache_shape(), sc.kc), vc = dev_f32(sc.cache_shape(), sc.vc);
  DevTensor tables = dev_i32({static_cast<int64_t>(sc.seqs.size()), sc.max_blocks}, sc.tables);
  DevTensor seq = dev_i32({sc.n_tokens}, sc.token_seq), pos = dev_i32({sc.n_tokens}, sc.positions);
  expect_ok(cuda::attention(c.ctx, out.t, q.t, kc.t, vc.t, tables.t, seq.t, pos.t, sc.scale(), sc.window), what);
  expect_guards({&out, &q, &kc, &vc, &tables, &seq, &pos}, what);
  return read_f32(out);
}

struct ErrorLog {
  double tc = 0, simt = 0;
  ~ErrorLog() {}
};

// Every schedule, cc 75 and cc 80, against the reference; returns the largest nmse per path.
void check_scene(Scene sc, ErrorLog* log, bool invariant = true) {
  sc.build();
  const std::vector<float> ref = run_reference(sc);
  for (const std::string& sched : schedules()) {
    CHECK_MSG(use_schedule(sched), "schedule %s refused", sched.c_str());
    for (int cc : {75, 80}) {
      const std::string what = "attention " + sc.name() + " cc" + std::to_string(cc) + " " + sched +
                               (invariant ? "" : " variant");
      const std::vector<float> got = run_cuda(sc, cc, invariant, what);
      const double e = nmse(got, ref);
      (cc >= 80 ? log->tc : log->simt) = std::max(cc >= 80 ? log->tc : log->simt, e);
      expect_close(got, ref, cc >= 80 ? kBoundTc : kBoundSimt, what);
    }
  }
}

void report(const char* what, const ErrorLog& log) {
  std::printf("  %s: max nmse tensor cores %.3g, SIMT %.3g\n", what, log.tc, log.simt);
}

Scene scene(int hd, int n_kv, int group, std::vector<SeqSpec> seqs, int window = 0, int bs = 16, uint32_t seed = 1) {
  Scene s;
  s.head_dim = hd;
  s.n_kv = n_kv;
  s.group = group;
  s.seqs = std::move(seqs);
  s.window = window;
  s.block_size = bs;
  s.seed = seed;
  return s;
}

TEST_CASE("attention: decode, 1 and 3 seqs (lens 1, 37, 600: split + merge), hd 64/128, gqa 1/4/8, window 0/17, "
          "schedules forward/reverse/random:12345, cc 75/80, seed 1") {
  ErrorLog log;
  check_scene(scene(64, 2, 4, {{1, 1, 1}}), &log);
  check_scene(scene(128, 1, 8, {{1, 1, 1}, {37, 1, 2}, {600, 1, 3}}), &log);
  check_scene(scene(64, 2, 1, {{600, 1, 4}, {37, 1, 5}, {3, 1, 6}}, 17), &log);
  report("decode", log);
}

TEST_CASE("attention: prefill 3 and 113 tokens, hd 64/128, gqa 1/4, window 0/17, bs 16/7, schedules "
          "forward/reverse/random:12345, cc 75/80, seed 1") {
  ErrorLog log;
  check_scene(scene(128, 2, 1, {{113, 113, 1}}), &log);
  check_scene(scene(64, 2, 4, {{3, 3, 2}}, 0, 7), &log);
  check_scene(scene(64, 1, 4, {{113, 113, 3}}, 17, 7), &log);
  report("prefill", log);
}

TEST_CASE("attention: mixed decode + prefill chunks in one batch, shuffled tokens, lens 600/40/3/1, hd 64, gqa 8, "
          "window 0/17, schedules forward/reverse/random:12345, cc 75/80, seed 2") {
  ErrorLog log;
  Scene s = scene(64, 1, 8, {{600, 20, 1}, {40, 1, 2}, {3, 3, 3}, {1, 1, 4}, {531, 1, 5}}, 0, 16, 2);
  s.interleave = true;
  check_scene(s, &log);
  s.window = 17;
  s.seqs[0].n_new = 5;
  check_scene(s, &log);
  report("mixed", log);
}

TEST_CASE("attention: head dims 16 and 40 (padded), gqa 7 (rows span tokens), decode and prefill, schedules "
          "forward/reverse/random:12345, cc 75/80, seed 3") {
  ErrorLog log;
  check_scene(scene(16, 2, 2, {{9, 9, 1}, {20, 1, 2}}, 0, 16, 3), &log);
  check_scene(scene(40, 2, 7, {{30, 30, 1}, {5, 2, 2}}, 0, 16, 3), &log);
  check_scene(scene(40, 2, 7, {{30, 1, 1}, {5, 1, 2}}, 4, 16, 3), &log);
  report("padded", log);
}

TEST_CASE("attention: without batch invariance (splits sized to the device), decode and prefill, schedules "
          "forward/reverse/random:12345, cc 75/80, seed 4") {
  ErrorLog log;
  check_scene(scene(64, 2, 4, {{700, 1, 1}, {37, 1, 2}}, 0, 16, 4), &log, false);
  check_scene(scene(64, 2, 4, {{700, 9, 1}, {37, 1, 2}}, 0, 16, 4), &log, false);
  report("variant", log);
}

// The rows of sequence 0's last query token.
std::vector<float> last_token_rows(const Scene& sc, const std::vector<float>& out) {
  const size_t row = static_cast<size_t>(sc.n_heads()) * sc.head_dim;
  for (int t = 0; t < sc.n_tokens; ++t)
    if (sc.token_seq[t] == 0 && sc.positions[t] == sc.seqs[0].len - 1)
      return std::vector<float>(out.begin() + t * row, out.begin() + (t + 1) * row);
  CHECK(false);
  return {};
}

void check_invariance(int hd, int group, int window, int len) {
  // Sequence 0 (tag 9) in five batches; its blocks land elsewhere in each (different seeds and
  // neighbours).
  const SeqSpec target{len, 1, 9};
  std::vector<Scene> batches = {
      scene(hd, 1, group, {target}, window, 16, 11),                                        // alone: decode
      scene(hd, 1, group, {target, {50, 1, 1}, {530, 1, 2}}, window, 16, 12),               // decode batch
      scene(hd, 1, group, {target, {50, 20, 1}, {530, 1, 2}}, window, 16, 13),              // mixed
      scene(hd, 1, group, {{target.len, 24, target.tag}}, window, 16, 14),                  // prefill chunk
      scene(hd, 1, group, {{target.len, 3, target.tag}, {5, 5, 3}, {1, 1, 4}}, window, 16, 15),  // mixed
  };
  batches.back().interleave = true;
  for (Scene& b : batches) b.build();
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    for (int cc : {75, 80}) {
      std::vector<float> first;
      for (const Scene& b : batches) {
        const std::string what = "invariance " + b.name() + " cc" + std::to_string(cc) + " " + sched;
        const std::vector<float> rows = last_token_rows(b, run_cuda(b, cc, true, what));
        if (first.empty()) {
          first = rows;
          continue;
        }
        CHECK_MSG(rows.size() == first.size() && std::memcmp(rows.data(), first.data(), rows.size() * 4) == 0,
                  "%s: the token's output differs from its output alone", what.c_str());
      }
    }
  }
}

TEST_CASE("attention: batch invariance, bitwise: one token alone, in a decode batch, in mixed batches and in a "
          "prefill chunk; 600 positions (2 partitions) 1 kv head, hd 64 gqa 4 window 0, hd 128 gqa 1 window 300; 300 "
          "positions (1 partition) hd 64 gqa 8; schedules forward/reverse/random:12345, cc 75/80") {
  check_invariance(64, 4, 0, 600);
  check_invariance(128, 1, 300, 600);
  check_invariance(64, 8, 0, 300);
}

TEST_CASE("attention: a decode batch whose split partials pass the scratch budget runs the prefill kernel, bitwise "
          "the same; 3 seqs of 600/50/530 positions (2 partitions), hd 64 gqa 4 and hd 128 gqa 1 window 300; schedules "
          "forward/reverse/random:12345, cc 75/80") {
  for (const auto& [hd, group, window] : {std::array<int, 3>{64, 4, 0}, std::array<int, 3>{128, 1, 300}}) {
    Scene sc = scene(hd, 1, group, {{600, 1, 9}, {50, 1, 1}, {530, 1, 2}}, window, 16, 16);
    sc.build();
    const std::vector<float> ref = run_reference(sc);
    for (const std::string& sched : schedules()) {
      CHECK(use_schedule(sched));
      for (int cc : {75, 80}) {
        const std::string what = "scratch budget " + sc.name() + " cc" + std::to_string(cc) + " " + sched;
#if defined(CUDA_EMU)
        cuda_emu::reset_stats();
#endif
        const std::vector<float> split = run_cuda(sc, cc, true, what);
#if defined(CUDA_EMU)
        const uint64_t launches_split = cuda_emu::stats().launches;  // decode, then merge
        cuda_emu::reset_stats();
#endif
        const std::vector<float> folded = run_cuda(sc, cc, true, what + " (budget 0)", 0);
#if defined(CUDA_EMU)
        CHECK_MSG(launches_split == 2 && cuda_emu::stats().launches == 1,
                  "%s: %llu launches with the default budget (decode + merge expected), %llu with budget 0 (prefill)",
                  what.c_str(), static_cast<unsigned long long>(launches_split),
                  static_cast<unsigned long long>(cuda_emu::stats().launches));
#endif
        CHECK_MSG(std::memcmp(split.data(), folded.data(), split.size() * 4) == 0,
                  "%s: the prefill kernel's fallback differs from decode + merge", what.c_str());
        expect_close(folded, ref, cc >= 80 ? kBoundTc : kBoundSimt, what);
      }
    }
  }
}

// f64 attention of one query row over the keys of `keys` (positions), for masked-key checks.
std::vector<double> attend(const Scene& sc, int t, int h, const std::vector<int>& keys) {
  const int hd = sc.head_dim, kvh = h / sc.group;
  const size_t row = static_cast<size_t>(sc.n_kv) * hd;
  const int32_t* table = sc.tables.data() + static_cast<size_t>(sc.token_seq[t]) * sc.max_blocks;
  std::vector<double> s;
  double mx = -INFINITY;
  for (int p : keys) {
    const size_t slot = static_cast<size_t>(table[p / sc.block_size]) * sc.block_size + p % sc.block_size;
    double a = 0;
    for (int d = 0; d < hd; ++d)
      a += static_cast<double>(sc.q[(static_cast<size_t>(t) * sc.n_heads() + h) * hd + d]) * sc.kc[slot * row + kvh * hd + d];
    s.push_back(a * sc.scale());
    mx = std::max(mx, s.back());
  }
  double sum = 0;
  for (double& x : s) sum += (x = std::exp(x - mx));
  std::vector<double> o(hd, 0.0);
  for (size_t i = 0; i < keys.size(); ++i) {
    const int p = keys[i];
    const size_t slot = static_cast<size_t>(table[p / sc.block_size]) * sc.block_size + p % sc.block_size;
    for (int d = 0; d < hd; ++d) o[d] += s[i] / sum * sc.vc[slot * row + kvh * hd + d];
  }
  return o;
}

void check_bad_indices(bool decode) {
  // Tokens: 0 bad sequence, 1 negative position, 2 position beyond the table, 3 a table with two
  // entries out of range (those keys masked), 4 a table whose every entry is bad (zeros).
  Scene sc = scene(64, 2, 4, {{40, 1, 1}, {3, 1, 2}, {20, 1, 3}, {70, 1, 4}, {9, 1, 5}}, 0, 16, 5);
  if (!decode) sc.seqs[3].n_new = 2;
  sc.build();
  const int n_seqs = static_cast<int>(sc.seqs.size());
  for (int t = 0; t < sc.n_tokens; ++t) {
    if (sc.token_seq[t] == 0) sc.token_seq[t] = n_seqs + 3;
    if (sc.token_seq[t] == 1) sc.positions[t] = -2;
    if (sc.token_seq[t] == 2) sc.positions[t] = sc.max_blocks * sc.block_size + 5;
  }
  sc.tables[3 * sc.max_blocks + 1] = sc.n_blocks + 100;  // positions 16..31 of sequence 3 masked
  sc.tables[3 * sc.max_blocks + 3] = -7;                 // positions 48..63 masked
  for (int b = 0; b < sc.max_blocks; ++b) sc.tables[4 * sc.max_blocks + b] = b % 2 ? -1 : 1 << 30;
  const size_t row = static_cast<size_t>(sc.n_heads()) * sc.head_dim;
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    for (int cc : {75, 80}) {
      const std::string what = std::string("bad indices ") + (decode ? "decode " : "prefill ") + sc.name() + " cc" +
                               std::to_string(cc) + " " + sched;
      const std::vector<float> out = run_cuda(sc, cc, true, what);
      std::vector<float> got, want;
      for (int t = 0; t < sc.n_tokens; ++t) {
        const int s = sc.token_seq[t];
        for (int h = 0; h < sc.n_heads(); ++h) {
          std::vector<double> o(sc.head_dim, 0.0);
          if (s == 3) {
            std::vector<int> keys;
            for (int p = 0; p <= sc.positions[t]; ++p)
              if (p / 16 != 1 && p / 16 != 3) keys.push_back(p);
            o = attend(sc, t, h, keys);
          }
          for (int d = 0; d < sc.head_dim; ++d) {
            got.push_back(out[t * row + h * sc.head_dim + d]);
            want.push_back(static_cast<float>(o[d]));
          }
        }
      }
      expect_close(got, want, cc >= 80 ? kBoundTc : kBoundSimt, what);
      for (size_t i = 0; i < got.size(); ++i)
        if (want[i] == 0.0f && got[i] != 0.0f) {
          CHECK_MSG(false, "%s: an invalid token's output is not zero", what.c_str());
          break;
        }
    }
  }
}

TEST_CASE("attention: index data out of range (bad sequence, negative position, position beyond the table, table "
          "entries out of range): zeros or masked keys, no access outside the tensors; decode and prefill, schedules "
          "forward/reverse/random:12345, cc 75/80, seed 5") {
  check_bad_indices(true);
  check_bad_indices(false);
}

TEST_CASE("attention: refuses bad shapes like the CPU op (dtype, head_dim, GQA ratio, head_dim above 128)") {
  Ctx c(80);
  DevTensor q = dev(DType::kF32, {2, 4, 64}), out = dev(DType::kF32, {2, 4, 64});
  DevTensor kc = dev(DType::kF32, {4, 16, 2, 64}), kc3 = dev(DType::kF32, {4, 16, 3, 64});
  DevTensor kc_hd = dev(DType::kF32, {4, 16, 2, 32}), tables = dev_i32({2, 2}, {0, 1, 2, 3});
  DevTensor seq = dev_i32({2}, {0, 1}), pos = dev_i32({2}, {0, 0}), pos_f = dev(DType::kF32, {2});
  DevTensor q_big = dev(DType::kF32, {2, 4, 192}), kc_big = dev(DType::kF32, {4, 16, 2, 192});
  auto code = [&](const DevTensor& o, const DevTensor& qq, const DevTensor& k, const DevTensor& p) {
    return cuda::attention(c.ctx, o.t, qq.t, k.t, k.t, tables.t, seq.t, p.t, 0.125f, 0).code;
  };
  CHECK(code(out, q, kc, pos) == Code::kOk);
  CHECK(code(out, q, kc3, pos) == Code::kInvalidArgument);
  CHECK(code(out, q, kc_hd, pos) == Code::kInvalidArgument);
  CHECK(code(out, q, kc, pos_f) == Code::kInvalidArgument);
  CHECK(code(q_big, q_big, kc_big, pos) == Code::kInvalidArgument);
}

// The larger matrix (scripts/cuda-ci.sh runs "full:").
TEST_CASE("full: paged-attn matrix: hd 16/40/64/128 x gqa 1/4/8 x {1 | 3 | 113 | 113+3+40+600 decode/mixed} x "
          "window 0/17 x bs 16/5, schedules forward/reverse/random:12345, cc 75/80, seed 21") {
  ErrorLog log;
  for (int hd : {16, 40, 64, 128})
    for (int group : {1, 4, 8})
      for (int window : {0, 17})
        for (int bs : {16, 5}) {
          const std::vector<std::vector<SeqSpec>> sets = {
              {{1, 1, 1}},
              {{3, 3, 1}},
              {{113, 113, 1}},
              {{113, 1, 1}, {3, 1, 2}, {40, 1, 3}, {600, 1, 4}},
              {{113, 30, 1}, {3, 3, 2}, {40, 1, 3}, {600, 2, 4}},
          };
          for (const auto& seqs : sets) {
            Scene s = scene(hd, 2, group, seqs, window, bs, 21);
            s.interleave = seqs.size() > 1;
            check_scene(s, &log);
          }
        }
  report("matrix", log);
}

}  // namespace
}  // namespace xlam::cuda_test
