// The sampler: Philox known answers, greedy, filters, penalties, seeded determinism and the
// distribution it draws from.
#include <cmath>
#include <map>
#include <vector>

#include "../src/philox.h"
#include "../src/sample.h"
#include "check.h"

using namespace xlam;

TEST_CASE("sample: philox4x32-10 matches the Random123 known answers") {
  auto r = philox4x32({0, 0, 0, 0}, {0, 0});
  CHECK(r[0] == 0x6627e8d5u && r[1] == 0xe169c58du && r[2] == 0xbc57ac4cu && r[3] == 0x9b00dbd8u);
  r = philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu});
  CHECK(r[0] == 0x408f276du && r[1] == 0x41c83b0eu && r[2] == 0xa20bc7c6u && r[3] == 0x6d5451fdu);
  r = philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u});
  CHECK(r[0] == 0xd16cfe09u && r[1] == 0x94fdccebu && r[2] == 0x5001e420u && r[3] == 0x24126ea1u);
}

TEST_CASE("sample: temperature 0 is argmax; parameters are validated") {
  SamplingParams p;
  p.temperature = 0;
  SamplerState s(p, {});
  std::vector<float> l = {0.1f, 2.0f, 2.0f, -1.0f};
  CHECK(s.sample(l.data(), 4) == 1);
  CHECK(validate_sampling(p, 4).ok());
  SamplingParams bad;
  bad.top_p = 0;
  CHECK(validate_sampling(bad, 4).code == Code::kInvalidArgument);
  bad = SamplingParams{};
  bad.temperature = NAN;
  CHECK(!validate_sampling(bad, 4).ok());
  bad = SamplingParams{};
  bad.logit_bias = {{7, 1.0f}};
  CHECK(!validate_sampling(bad, 4).ok());
}

TEST_CASE("sample: seeded draws repeat exactly and follow the softmax") {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, 3.0f, -1.0f};
  SamplingParams p;
  p.seed = 1234;
  SamplerState a(p, {}), b(p, {});
  std::map<int32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    std::vector<float> l1 = logits, l2 = logits;
    int32_t x = a.sample(l1.data(), 5), y = b.sample(l2.data(), 5);
    CHECK(x == y);
    counts[x]++;
  }
  double z = 0;
  for (float v : logits) z += std::exp(v);
  for (int i = 0; i < 5; ++i) {
    const double expect = std::exp(logits[i]) / z * n;
    CHECK_MSG(std::fabs(counts[i] - expect) < 5 * std::sqrt(expect) + 5, "token %d: %d vs %.0f", i, counts[i], expect);
  }
  SamplingParams other = p;
  other.seed = 99;
  SamplerState c(other, {});
  int differ = 0;
  SamplerState a2(p, {});
  for (int i = 0; i < 50; ++i) {
    std::vector<float> l1 = logits, l2 = logits;
    differ += a2.sample(l1.data(), 5) != c.sample(l2.data(), 5);
  }
  CHECK(differ > 0);
}

TEST_CASE("sample: top-k, top-p and min-p keep only what they must") {
  const std::vector<float> logits = {0.0f, 3.0f, 2.9f, 1.0f, -2.0f};
  auto support = [&](SamplingParams p) {
    SamplerState s(p, {});
    std::map<int32_t, int> seen;
    for (int i = 0; i < 4000; ++i) {
      std::vector<float> l = logits;
      seen[s.sample(l.data(), 5)]++;
    }
    std::vector<int32_t> ids;
    for (auto& [id, c] : seen) ids.push_back(id);
    return ids;
  };
  SamplingParams k;
  k.top_k = 2;
  CHECK(support(k) == std::vector<int32_t>({1, 2}));
  SamplingParams tp;
  tp.top_p = 0.5f;  // p(1) ~ 0.47, p(2) ~ 0.43: two tokens reach 0.5
  CHECK(support(tp) == std::vector<int32_t>({1, 2}));
  tp.top_p = 0.3f;
  CHECK(support(tp) == std::vector<int32_t>({1}));
  SamplingParams mp;
  mp.min_p = 0.2f;  // p(3) / p(1) = e^-2 ~ 0.135 < 0.2
  CHECK(support(mp) == std::vector<int32_t>({1, 2}));
}

TEST_CASE("sample: penalties and logit bias change the logits as specified") {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0f;
  SamplerState s(p, {0, 0, 1});
  std::vector<float> l = {4.0f, -1.0f, 2.5f};
  CHECK(s.sample(l.data(), 3) == 2);  // 4 -> 2, -1 -> -2, 2.5 stays
  CHECK(l[0] == 2.0f && l[1] == -2.0f && l[2] == 2.5f);
  SamplingParams q;
  q.temperature = 0;
  q.presence_penalty = 0.5f;
  q.frequency_penalty = 1.0f;
  SamplerState f(q, {2});
  f.accept(0);
  f.accept(0);
  l = {4.0f, 1.0f, 2.0f};
  f.sample(l.data(), 3);
  CHECK(l[0] == 4.0f - 0.5f - 2.0f && l[2] == 2.0f);  // the prompt token is not penalised
  SamplingParams b;
  b.temperature = 0;
  b.logit_bias = {{0, -INFINITY}, {2, 10.0f}};
  SamplerState g(b, {});
  l = {4.0f, 1.0f, 2.0f};
  CHECK(g.sample(l.data(), 3) == 2);
  SamplingParams all_banned;
  all_banned.logit_bias = {{0, -INFINITY}, {1, -INFINITY}};
  SamplerState h(all_banned, {});
  l = {1.0f, 1.0f};
  CHECK(h.sample(l.data(), 2) == -1);
}
