// libFuzzer target: the native side of constrained decoding. The input is decoded into a byte
// grammar (the arrays lib/grammar/bytes.ts sends, sometimes with bad indices) and a token
// sequence; validate_grammar must refuse a bad grammar with a Status, and for a valid one the
// matcher must agree with itself: a token is in the mask exactly when accept() takes it (or
// refuses it at the documented stack limit, Pda::kMaxTops), and the
// tokens forced_tokens() returns are accepted in turn.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grammar/matcher.h"

using namespace xlam;

namespace {

// A small vocabulary of JSON-ish pieces; the last token is special (never emitted by a grammar).
const char* const kTokens[] = {"a", "b", "z", "{", "}", "[", "]", "\"", ",", ":", " ", "\n", "0", "1", "9", "-", ".",
                               "e", "true", "false", "null", "ab", "\":", "{\"", "\",\"", "\":\"", "\"}", "]}",
                               "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\\", "\\u", "name", "<eos>"};
constexpr int kNumTokens = sizeof(kTokens) / sizeof(kTokens[0]);

std::unique_ptr<GrammarContext> make_context() {
  std::vector<uint8_t> data, allowed;
  std::vector<uint32_t> offsets{0};
  for (int i = 0; i < kNumTokens; ++i) {
    for (const char* p = kTokens[i]; *p; ++p) data.push_back(static_cast<uint8_t>(*p));
    offsets.push_back(static_cast<uint32_t>(data.size()));
    allowed.push_back(i + 1 < kNumTokens ? 1 : 0);
  }
  auto ctx = std::make_unique<GrammarContext>();
  if (!ctx->set_vocabulary(data.data(), data.size(), offsets.data(), allowed.data(), kNumTokens).ok()) __builtin_trap();
  return ctx;
}

std::shared_ptr<ByteGrammar> decode_grammar(FuzzedDataProvider& in) {
  auto g = std::make_shared<ByteGrammar>();
  const int n_sets = in.ConsumeIntegralInRange(1, 6);
  for (int s = 0; s < n_sets; ++s) {
    std::array<uint32_t, 8> set{};
    if (in.ConsumeBool()) {
      for (auto& w : set) w = in.ConsumeIntegral<uint32_t>();
    } else {
      const uint8_t lo = in.ConsumeIntegral<uint8_t>(), hi = in.ConsumeIntegral<uint8_t>();
      for (int b = lo; b <= hi; ++b) set[static_cast<size_t>(b) >> 5] |= 1u << (b & 31);
    }
    g->sets.push_back(set);
  }
  const int n_rules = in.ConsumeIntegralInRange(1, 6);
  g->rule_alts.push_back(0);
  for (int r = 0; r < n_rules; ++r) {
    const int n_alts = in.ConsumeIntegralInRange(1, 3);
    for (int a = 0; a < n_alts; ++a) {
      g->alt_start.push_back(static_cast<int32_t>(g->kind.size()));
      const int n_elems = in.ConsumeIntegralInRange(0, 5);
      for (int e = 0; e < n_elems; ++e) {
        const uint8_t k = in.ConsumeIntegralInRange<uint8_t>(0, 15);
        if (k == 15) {  // a raw element, possibly out of range
          g->kind.push_back(in.ConsumeIntegral<uint8_t>());
          g->arg.push_back(in.ConsumeIntegral<int32_t>());
        } else if (k < 10) {
          g->kind.push_back(static_cast<uint8_t>(ElemKind::kBytes));
          g->arg.push_back(in.ConsumeIntegralInRange(0, n_sets - 1));
        } else {
          g->kind.push_back(static_cast<uint8_t>(ElemKind::kRef));
          g->arg.push_back(in.ConsumeIntegralInRange(0, n_rules - 1));
        }
      }
      g->kind.push_back(static_cast<uint8_t>(ElemKind::kEnd));
      g->arg.push_back(0);
    }
    g->rule_alts.push_back(static_cast<int32_t>(g->alt_start.size()));
  }
  g->root = in.ConsumeIntegralInRange(0, n_rules);  // n_rules itself is out of range
  if (in.ConsumeIntegralInRange(0, 31) == 0 && !g->kind.empty()) g->kind.pop_back();  // a missing END
  return g;
}

bool has(const std::vector<uint64_t>& bits, int32_t t) { return (bits[static_cast<size_t>(t) / 64] >> (t % 64)) & 1u; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<GrammarContext> ctx = make_context();
  FuzzedDataProvider in(data, size);
  std::shared_ptr<ByteGrammar> g = decode_grammar(in);
  Status st = validate_grammar(*g);
  if (!st.ok()) {
    if (st.code != Code::kInvalidArgument || st.message.empty()) __builtin_trap();
    return 0;
  }
  GrammarMatcher m(ctx.get(), ctx->compile(g));
  std::vector<uint64_t> bits;
  std::vector<int32_t> forced;
  for (int step = 0; step < 32 && in.remaining_bytes() > 0; ++step) {
    m.fill_mask(&bits);
    if (has(bits, kNumTokens - 1)) __builtin_trap();  // a special token is never in the mask
    m.forced_tokens(4, &forced);
    GrammarMatcher copy = m;
    for (int32_t t : forced)
      if (!copy.accept(t)) __builtin_trap();
    const int32_t t = in.ConsumeIntegralInRange(0, kNumTokens - 1);
    GrammarMatcher probe = m;
    const bool allowed = has(bits, t);
    bool at_limit = false;
    const bool took = probe.accept(t, &at_limit);
    if (took != allowed && !(allowed && at_limit)) __builtin_trap();  // only the stack limit may refuse a masked token
    if (allowed) m.accept(t);
    else m.accept_byte(in.ConsumeIntegral<uint8_t>());
    if (m.complete() && !m.can_continue() && in.ConsumeBool()) break;
  }
  return 0;
}
