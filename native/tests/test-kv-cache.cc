// The block manager (reference counts, prefix caching, LRU eviction) and the per-sequence block
// tables of the paged KV cache.
#include <numeric>
#include <random>

#include "../cpu/cpu-backend.h"
#include "../src/kv-cache.h"
#include "check.h"

using namespace xlam;

TEST_CASE("kv: block manager hands out and takes back blocks") {
  BlockManager m;
  m.reset(4, 2);
  std::vector<int32_t> a, b;
  CHECK(m.allocate(3, &a));
  CHECK(a == std::vector<int32_t>({0, 1, 2}));
  CHECK(!m.allocate(2, &b));  // one left: nothing taken
  CHECK(b.empty() && m.free_count() == 1);
  m.release(a);
  CHECK(m.free_count() == 4);
  m.release(a);  // a second release of free blocks is ignored
  CHECK(m.free_count() == 4);
}

TEST_CASE("kv: identical prefixes share committed blocks; only exact matches hit") {
  BlockManager m;
  m.reset(8, 2);
  const std::vector<int32_t> toks = {1, 2, 3, 4, 5, 6, 7};
  std::vector<int32_t> seq;
  CHECK(m.allocate(4, &seq));
  uint64_t h0 = m.commit(seq[0], 0, &toks[0]);
  uint64_t h1 = m.commit(seq[1], h0, &toks[2]);
  m.commit(seq[2], h1, &toks[4]);
  CHECK(m.cached_count() == 3);
  std::vector<uint64_t> hashes;
  auto hit = m.match_prefix(toks.data(), 5, &hashes);  // 5 tokens: two full blocks
  CHECK(hit == std::vector<int32_t>({seq[0], seq[1]}));
  CHECK(hashes == std::vector<uint64_t>({h0, h1}));
  CHECK(m.ref_count(seq[0]) == 2);
  const std::vector<int32_t> other = {1, 2, 9, 4};
  CHECK(m.match_prefix(other.data(), 4, nullptr).size() == 1);  // diverges in block 1
  const std::vector<int32_t> none = {2, 1};
  CHECK(m.match_prefix(none.data(), 2, nullptr).empty());
  m.release(hit);
  m.release({seq[0]});  // the one taken by `other`
  CHECK(m.ref_count(seq[0]) == 1);
}

TEST_CASE("kv: freed cached blocks stay reusable until evicted, least recently freed first") {
  BlockManager m;
  m.reset(4, 1);
  const std::vector<int32_t> toks = {10, 11, 12};
  std::vector<int32_t> seq;
  CHECK(m.allocate(3, &seq));
  uint64_t h = 0;
  for (int i = 0; i < 3; ++i) h = m.commit(seq[i], h, &toks[i]);
  m.release(seq);  // tail first: block of token 12 freed first
  CHECK(m.free_count() == 4 && m.cached_count() == 3);
  auto hit = m.match_prefix(toks.data(), 3, nullptr);
  CHECK(hit == seq);  // still cached after being freed
  m.release(hit);
  std::vector<int32_t> fresh;
  CHECK(m.allocate(2, &fresh));  // the never-cached block first, then the oldest freed cached one
  CHECK(fresh[0] == 3 && fresh[1] == seq[2]);
  CHECK(m.cached_count() == 2);
  CHECK(m.match_prefix(toks.data(), 3, nullptr).size() == 2);  // the chain now ends at block 1
}

TEST_CASE("kv: random operations keep the accounting exact") {
  BlockManager m;
  m.reset(32, 4);
  std::mt19937 rng(7);
  std::vector<std::vector<int32_t>> held;
  std::vector<std::vector<int32_t>> tokens;
  for (int step = 0; step < 20000; ++step) {
    const int op = static_cast<int>(rng() % 3);
    if (op == 0) {  // a sequence arrives: match a prefix, allocate the rest, commit all
      std::vector<int32_t> t(static_cast<size_t>(4 * (1 + rng() % 5)));
      for (auto& x : t) x = static_cast<int32_t>(rng() % 3);
      std::vector<uint64_t> hashes;
      auto blocks = m.match_prefix(t.data(), static_cast<int64_t>(t.size()), &hashes);
      const int64_t need = static_cast<int64_t>(t.size()) / 4 - static_cast<int64_t>(blocks.size());
      if (!m.allocate(need, &blocks)) {
        m.release(blocks);
        continue;
      }
      uint64_t h = hashes.empty() ? 0 : hashes.back();
      for (size_t k = hashes.size(); k < blocks.size(); ++k) h = m.commit(blocks[k], h, &t[k * 4]);
      held.push_back(blocks);
      tokens.push_back(t);
    } else if (!held.empty()) {
      const size_t i = rng() % held.size();
      m.release(held[i]);
      held.erase(held.begin() + static_cast<long>(i));
      tokens.erase(tokens.begin() + static_cast<long>(i));
    }
    int64_t refs = 0, used = 0;
    for (int32_t b = 0; b < 32; ++b) {
      CHECK(m.ref_count(b) >= 0);
      refs += m.ref_count(b);
      used += m.ref_count(b) > 0;
    }
    int64_t expect_refs = 0;
    for (const auto& h : held) expect_refs += static_cast<int64_t>(h.size());
    CHECK(refs == expect_refs);
    CHECK(used == m.used_count() && m.free_count() + m.used_count() == 32);
  }
  for (const auto& h : held) m.release(h);
  CHECK(m.free_count() == 32);
}

TEST_CASE("kv: sequences reserve blocks as they grow, attach prefixes and free them") {
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
  std::vector<int32_t> toks(40);
  std::iota(toks.begin(), toks.end(), 100);
  cache.commit_full_blocks(&s1, toks.data(), 33);
  CHECK(s1.hashes.size() == 2);
  SeqSlots s3;
  CHECK(cache.attach_prefix(&s3, toks.data(), 39) == 32);
  CHECK(s3.blocks == std::vector<int32_t>({s1.blocks[0], s1.blocks[1]}));
  cache.free_seq(&s1);
  cache.free_seq(&s3);
  CHECK(cache.blocks().free_count() == 5);
}
