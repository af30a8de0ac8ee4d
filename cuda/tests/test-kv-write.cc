// kv_write and copy_blocks on CUDA (emulated) against the CPU reference op: exact (they copy),
// every schedule, float4 and scalar paths, padding slots, out-of-range indices skipped without any
// access outside the tensors (the CPU op refuses them; its result with those entries dropped is
// the expectation).
#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "../../native/tests/check.h"
#include "op-test.h"

namespace xlam::cuda_test {
namespace {

std::vector<int32_t> bits(const std::vector<float>& v) {
  std::vector<int32_t> b(v.size());
  std::memcpy(b.data(), v.data(), v.size() * 4);
  return b;
}

// n_tokens rows written into a cache of n_blocks x bs slots through a shuffled slot mapping with
// padding (-1) and, when `bad`, slots beyond the cache (the CUDA op skips them).
void check_kv_write(int n_tokens, int n_kv, int hd, int n_blocks, int bs, bool bad, uint32_t seed) {
  const int64_t n_slots = static_cast<int64_t>(n_blocks) * bs;
  std::mt19937 rng(seed);
  std::vector<int32_t> slots(n_slots);
  std::iota(slots.begin(), slots.end(), 0);
  std::shuffle(slots.begin(), slots.end(), rng);
  slots.resize(n_tokens);
  for (int i = 0; i < n_tokens; i += 5) slots[i] = -1;  // padding
  std::vector<int32_t> cuda_slots = slots;
  if (bad)
    for (int i = 2; i < n_tokens; i += 4) cuda_slots[i] = static_cast<int32_t>(n_slots + i);  // CPU: -1 (skipped)
  const Shape cache{n_blocks, bs, n_kv, hd}, rows{n_tokens, n_kv, hd};
  const std::vector<float> kc = randn(cache.numel(), seed + 1), vc = randn(cache.numel(), seed + 2);
  const std::vector<float> k = randn(rows.numel(), seed + 3), v = randn(rows.numel(), seed + 4);
  std::vector<int32_t> cpu_slots = slots;
  if (bad)
    for (int i = 2; i < n_tokens; i += 4) cpu_slots[i] = -1;
  Oracle o;
  Tensor okc = o.f32(cache, kc), ovc = o.f32(cache, vc);
  expect_ok(o.be.kv_write(okc, ovc, o.f32(rows, k), o.f32(rows, v), o.i32({n_tokens}, cpu_slots)), "cpu kv_write");
  const std::vector<int32_t> want_k = bits(o.read_f32(okc)), want_v = bits(o.read_f32(ovc));
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    const std::string what = "kv_write tokens" + std::to_string(n_tokens) + " kv" + std::to_string(n_kv) + " hd" +
                             std::to_string(hd) + " blocks" + std::to_string(n_blocks) + " bs" + std::to_string(bs) +
                             (bad ? " bad-slots" : "") + " seed" + std::to_string(seed) + " " + sched;
    Ctx c;
    DevTensor dk = dev_f32(cache, kc), dv = dev_f32(cache, vc), tk = dev_f32(rows, k), tv = dev_f32(rows, v);
    DevTensor ts = dev_i32({n_tokens}, cuda_slots);
    expect_ok(cuda::kv_write(c.ctx, dk.t, dv.t, tk.t, tv.t, ts.t), what);
    expect_guards({&dk, &dv, &tk, &tv, &ts}, what);
    expect_equal(bits(read_f32(dk)), want_k, what + " k_cache");
    expect_equal(bits(read_f32(dv)), want_v, what + " v_cache");
  }
}

TEST_CASE("kv_write: tokens 1/3/113, kv heads 1/2/8, hd 64/128 (float4) and 9 (scalar), bs 16/7, padding, schedules "
          "forward/reverse/random:12345, seed 1") {
  check_kv_write(1, 2, 64, 3, 16, false, 1);
  check_kv_write(3, 8, 128, 5, 7, false, 1);
  check_kv_write(113, 1, 64, 9, 16, false, 1);
  check_kv_write(113, 1, 9, 20, 7, false, 1);
}

TEST_CASE("kv_write: slots beyond the cache are skipped (the CPU op refuses them), no access outside, tokens 113 "
          "kv 2 hd 64 and hd 9, schedules forward/reverse/random:12345, seed 2") {
  check_kv_write(113, 2, 64, 10, 16, true, 2);
  check_kv_write(113, 1, 9, 20, 7, true, 2);
}

// n_pairs copies between distinct, non-chaining blocks (plus a src == dst pair); when `bad`, pairs
// with an index out of range (skipped by the CUDA op).
void check_copy_blocks(int n_pairs, int n_kv, int hd, int n_blocks, int bs, bool bad, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(n_blocks);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  // First n_pairs shuffled ids are sources, the next n_pairs destinations: no chains, distinct dsts.
  std::vector<int32_t> pairs;
  for (int i = 0; i < n_pairs; ++i) {
    pairs.push_back(ids[i]);
    pairs.push_back(ids[n_pairs + i]);
  }
  pairs.push_back(ids[0]);  // src == dst: nothing to do
  pairs.push_back(ids[0]);
  std::vector<int32_t> cuda_pairs = pairs;
  if (bad) {
    cuda_pairs.insert(cuda_pairs.end(), {ids[1], n_blocks + 3, -1, ids[2], ids[3], -5, n_blocks, ids[4]});
  }
  const int64_t n_cpu = static_cast<int64_t>(pairs.size()) / 2, n_cuda = static_cast<int64_t>(cuda_pairs.size()) / 2;
  const Shape cache{n_blocks, bs, n_kv, hd};
  const std::vector<float> kc = randn(cache.numel(), seed + 1), vc = randn(cache.numel(), seed + 2);
  Oracle o;
  Tensor okc = o.f32(cache, kc), ovc = o.f32(cache, vc);
  expect_ok(o.be.copy_blocks(okc, ovc, o.i32({n_cpu, 2}, pairs)), "cpu copy_blocks");
  const std::vector<int32_t> want_k = bits(o.read_f32(okc)), want_v = bits(o.read_f32(ovc));
  for (const std::string& sched : schedules()) {
    CHECK(use_schedule(sched));
    const std::string what = "copy_blocks pairs" + std::to_string(n_cuda) + " kv" + std::to_string(n_kv) + " hd" +
                             std::to_string(hd) + " blocks" + std::to_string(n_blocks) + " bs" + std::to_string(bs) +
                             (bad ? " bad-pairs" : "") + " seed" + std::to_string(seed) + " " + sched;
    Ctx c;
    DevTensor dk = dev_f32(cache, kc), dv = dev_f32(cache, vc), tp = dev_i32({n_cuda, 2}, cuda_pairs);
    expect_ok(cuda::copy_blocks(c.ctx, dk.t, dv.t, tp.t), what);
    expect_guards({&dk, &dv, &tp}, what);
    expect_equal(bits(read_f32(dk)), want_k, what + " k_cache");
    expect_equal(bits(read_f32(dv)), want_v, what + " v_cache");
  }
}

TEST_CASE("copy_blocks: pairs 1/3/13, kv 2 hd 64 (float4) and kv 1 hd 9 bs 7 (scalar), src == dst, schedules "
          "forward/reverse/random:12345, seed 1") {
  check_copy_blocks(1, 2, 64, 4, 16, false, 1);
  check_copy_blocks(3, 2, 64, 9, 16, false, 1);
  check_copy_blocks(13, 1, 9, 30, 7, false, 1);
}

TEST_CASE("copy_blocks: pairs with indices out of range are skipped (the CPU op refuses them), no access outside, "
          "schedules forward/reverse/random:12345, seed 2") {
  check_copy_blocks(3, 2, 64, 9, 16, true, 2);
  check_copy_blocks(3, 1, 9, 11, 7, true, 2);
}

TEST_CASE("kv_write / copy_blocks: refuse bad shapes like the CPU op; empty batches are no-ops") {
  Ctx c;
  DevTensor kc = dev(DType::kF32, {4, 16, 2, 64}), vc = dev(DType::kF32, {4, 16, 2, 64});
  DevTensor k = dev(DType::kF32, {3, 2, 64}), k_hd = dev(DType::kF32, {3, 2, 32}), slots = dev_i32({3}, {0, 1, 2});
  DevTensor slots2 = dev_i32({2}, {0, 1}), pairs = dev_i32({1, 2}, {0, 1}), pairs3 = dev_i32({1, 3}, {0, 1, 2});
  DevTensor k0 = dev(DType::kF32, {0, 2, 64}), slots0 = dev(DType::kI32, {0});
  CHECK(cuda::kv_write(c.ctx, kc.t, vc.t, k_hd.t, k_hd.t, slots.t).code == Code::kInvalidArgument);
  CHECK(cuda::kv_write(c.ctx, kc.t, vc.t, k.t, k.t, slots2.t).code == Code::kInvalidArgument);
  CHECK(cuda::kv_write(c.ctx, kc.t, vc.t, k.t, k.t, pairs.t).code == Code::kInvalidArgument);
  CHECK(cuda::kv_write(c.ctx, kc.t, vc.t, k0.t, k0.t, slots0.t).ok());
  CHECK(cuda::copy_blocks(c.ctx, kc.t, vc.t, pairs3.t).code == Code::kInvalidArgument);
  CHECK(cuda::copy_blocks(c.ctx, kc.t, k.t, pairs.t).code == Code::kInvalidArgument);
  expect_guards({&kc, &vc}, "shape checks");
}

}  // namespace
}  // namespace xlam::cuda_test
