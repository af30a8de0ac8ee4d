// The block pool and per-sequence block tables of the paged KV cache.
#include "../cpu/cpu-backend.h"
#include "../src/kv-cache.h"
#include "check.h"

using namespace xlam;

TEST_CASE("kv: block pool hands out and takes back blocks") {
  BlockPool pool;
  pool.reset(4);
  std::vector<int32_t> a, b;
  CHECK(pool.allocate(3, &a));
  CHECK(a == std::vector<int32_t>({0, 1, 2}));
  CHECK(!pool.allocate(2, &b));  // only one left: nothing taken
  CHECK(b.empty() && pool.free_count() == 1);
  pool.release(a);
  CHECK(pool.free_count() == 4);
  pool.release(a);  // a second release of free blocks is ignored
  CHECK(pool.free_count() == 4);
}

TEST_CASE("kv: sequences reserve blocks as they grow and free them") {
  cpu::CpuBackend be(cpu::CpuOptions{1, false});
  KvCache cache;
  KvCacheShape shape{2, 2, 8, 16, 5};
  CHECK(cache.init(&be, shape).ok());
  CHECK(cache.capacity_tokens() == 80);
  SeqSlots s1, s2;
  CHECK(cache.reserve(&s1, 17).ok());
  CHECK(s1.blocks.size() == 2);
  CHECK(cache.slot(s1, 16) == s1.blocks[1] * 16);
  CHECK(cache.reserve(&s2, 48).ok());
  CHECK(cache.reserve(&s1, 33).code == Code::kContextOverflow);  // 3 blocks needed, 0 free
  CHECK(s1.blocks.size() == 2);
  cache.free_seq(&s2);
  CHECK(cache.reserve(&s1, 33).ok());
  CHECK(cache.pool().free_count() == 2);
  cache.free_seq(&s1);
  CHECK(cache.pool().free_count() == 5);
}
