// The CPU backend's thread pool: every index of a parallel_for is visited exactly once, in the
// documented contiguous split, and the caller sees the workers' plain (non-atomic) writes when
// parallel_for returns; pools created, used from their own threads at once and destroyed in
// quick succession. Run under ThreadSanitizer in CI (XLAM_TSAN), where a missing
// happens-before edge or a shutdown race is a report.
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "../cpu/thread-pool.h"
#include "check.h"

using namespace xlam;
using namespace xlam::cpu;

namespace {

// Runs parallel_for over sizes around the thread count; true when each index was written once
// by exactly one chunk and the chunks were contiguous and in order.
bool exercise(ThreadPool& pool, int rounds) {
  for (int r = 0; r < rounds; ++r) {
    const int64_t n = (r * 7) % 97 + (r % 5 == 0 ? 0 : 1);
    std::vector<int32_t> hits(static_cast<size_t>(n), 0);  // plain writes: TSan checks the hand-off
    std::atomic<int> calls{0};
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      calls.fetch_add(1, std::memory_order_relaxed);
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)] += 1;
    });
    for (int64_t i = 0; i < n; ++i)
      if (hits[static_cast<size_t>(i)] != 1) return false;
    if (n == 0 && calls.load() != 0) return false;
    if (n > 0 && (calls.load() < 1 || calls.load() > pool.size())) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("thread pool: every index once, writes visible to the caller") {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads, ComputePriority::kNormal);
    CHECK(pool.size() == threads);
    CHECK_MSG(exercise(pool, 300), "threads=%d", threads);
  }
  ThreadPool zero(0, ComputePriority::kNormal);
  CHECK(zero.size() == 1);
  CHECK(exercise(zero, 20));
}

TEST_CASE("thread pool: pools used from several threads at once, then destroyed") {
  for (int round = 0; round < 20; ++round) {
    std::vector<std::unique_ptr<ThreadPool>> pools;
    for (int i = 0; i < 3; ++i) pools.push_back(std::make_unique<ThreadPool>(2 + i % 2, ComputePriority::kNormal));
    std::atomic<int> ok{0};
    std::vector<std::thread> users;
    for (auto& p : pools) users.emplace_back([&ok, pool = p.get()] { ok += exercise(*pool, 25) ? 1 : 0; });
    for (auto& u : users) u.join();
    CHECK_MSG(ok.load() == 3, "round %d", round);
    pools.clear();  // destructors join workers that may still be waking up
  }
  // A pool destroyed without ever running a job.
  for (int i = 0; i < 50; ++i) ThreadPool idle(4, ComputePriority::kNormal);
}
