// The grammar matcher: validation, the pushdown automaton (tail calls keep `x*` flat), the
// vocabulary trie, mask entries (accepted / uncertain / rejected against a brute-force walk),
// forced continuations, and the scheduler masking a real model's sampling with a grammar.
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "../cpu/cpu-backend.h"
#include "../src/forward.h"
#include "../src/grammar/matcher.h"
#include "../src/kv-cache.h"
#include "../src/model.h"
#include "../src/scheduler.h"
#include "check.h"

using namespace xlam;

namespace {

// A tiny grammar builder: elements are "lit:abc" (one set per byte), "set:a-z" (an inclusive
// byte range), "ref:N" (rule N).
struct Builder {
  ByteGrammar g;
  std::vector<std::vector<std::vector<std::string>>> rules;

  int32_t set(uint8_t lo, uint8_t hi) {
    std::array<uint32_t, 8> s{};
    for (int b = lo; b <= hi; ++b) s[static_cast<size_t>(b >> 5)] |= 1u << (b & 31);
    g.sets.push_back(s);
    return static_cast<int32_t>(g.sets.size()) - 1;
  }
  ByteGrammar build(int32_t root = 0) {
    g.rule_alts.push_back(0);
    for (const auto& alts : rules) {
      for (const auto& alt : alts) {
        g.alt_start.push_back(static_cast<int32_t>(g.kind.size()));
        for (const std::string& e : alt) {
          if (e.rfind("lit:", 0) == 0) {
            for (size_t i = 4; i < e.size(); ++i) {
              g.kind.push_back(1);
              g.arg.push_back(set(static_cast<uint8_t>(e[i]), static_cast<uint8_t>(e[i])));
            }
          } else if (e.rfind("set:", 0) == 0) {
            g.kind.push_back(1);
            g.arg.push_back(set(static_cast<uint8_t>(e[4]), static_cast<uint8_t>(e[6])));
          } else {
            g.kind.push_back(2);
            g.arg.push_back(std::atoi(e.c_str() + 4));
          }
        }
        g.kind.push_back(0);
        g.arg.push_back(0);
      }
      g.rule_alts.push_back(static_cast<int32_t>(g.alt_start.size()));
    }
    g.root = root;
    return g;
  }
};

// root ::= "{" ws "\"k\":" ws digits ws "}" ; digits ::= [0-9] digits | [0-9] ; ws ::= " " ws | ""
ByteGrammar json_like() {
  Builder b;
  b.rules = {
      {{"lit:{", "ref:2", "lit:\"k\":", "ref:2", "ref:1", "ref:2", "lit:}"}},
      {{"set:0-9", "ref:1"}, {"set:0-9"}},
      {{"lit: ", "ref:2"}, {}},
  };
  return b.build();
}

// A vocabulary of byte strings (id = index); every token allowed.
GrammarContext context_for(const std::vector<std::string>& vocab) {
  std::vector<uint8_t> data;
  std::vector<uint32_t> offsets{0};
  for (const std::string& t : vocab) {
    data.insert(data.end(), t.begin(), t.end());
    offsets.push_back(static_cast<uint32_t>(data.size()));
  }
  std::vector<uint8_t> allowed(vocab.size(), 1);
  GrammarContext ctx;
  CHECK(ctx.set_vocabulary(data.data(), data.size(), offsets.data(), allowed.data(), static_cast<int64_t>(vocab.size())).ok());
  return ctx;
}

bool accepts(const ByteGrammar& g, const std::string& s, bool* complete) {
  Pda pda(&g);
  int32_t st = pda.initial();
  for (char c : s) {
    st = pda.step(st, static_cast<uint8_t>(c));
    if (st == Pda::kDead) return false;
  }
  *complete = pda.state(st).complete;
  return true;
}

}  // namespace

TEST_CASE("grammar: validation rejects bad indices, missing END and left recursion") {
  ByteGrammar good = json_like();
  CHECK(validate_grammar(good).ok());
  ByteGrammar g = good;
  g.root = 9;
  CHECK(validate_grammar(g).code == Code::kInvalidArgument);
  g = good;
  g.arg[0] = 1000;  // set index
  CHECK(!validate_grammar(g).ok());
  g = good;
  g.kind.back() = 1;  // the last alternative runs off the end
  CHECK(!validate_grammar(g).ok());
  g = good;
  g.alt_start[0] = -3;
  CHECK(!validate_grammar(g).ok());
  g = good;
  g.rule_alts.back() = 99;
  CHECK(!validate_grammar(g).ok());
  Builder lr;  // a ::= b "x" ; b ::= "" | a  (left recursion through a nullable rule)
  lr.rules = {{{"ref:1", "lit:x"}}, {{}, {"ref:0"}}};
  const Status st = validate_grammar(lr.build());
  CHECK(!st.ok() && st.message.find("left recursion") != std::string::npos);
}

TEST_CASE("grammar: the automaton accepts the language, and x* loops in constant depth") {
  const ByteGrammar g = json_like();
  bool complete = false;
  CHECK(accepts(g, "{\"k\":12}", &complete) && complete);
  CHECK(accepts(g, "{  \"k\": 7 }", &complete) && complete);
  CHECK(accepts(g, "{\"k\":1", &complete) && !complete);
  CHECK(!accepts(g, "{\"k\":}", &complete));
  CHECK(!accepts(g, "{\"j\"", &complete));
  Pda pda(&g);
  int32_t st = pda.step(pda.step(pda.initial(), '{'), ' ');
  const size_t nodes_before = pda.memory_bytes();
  for (int i = 0; i < 10000; ++i) st = pda.step(st, ' ');
  CHECK(st != Pda::kDead);
  int max_depth = 0;
  for (int32_t t : pda.state(st).tops) max_depth = std::max(max_depth, pda.node_at(t).depth);
  CHECK(max_depth <= 3);
  CHECK(pda.memory_bytes() == nodes_before);  // the same state again: nothing new interned
}

TEST_CASE("grammar: the vocabulary trie finds the longest token prefix and covers every token once") {
  std::vector<std::string> vocab = {"a", "ab", "abc", "b", "", "ab", "\xff", "ba"};
  GrammarContext ctx = context_for(vocab);
  const VocabTrie& t = ctx.trie();
  size_t len = 0;
  const uint8_t s1[] = {'a', 'b', 'x'};
  const int32_t id = t.longest_prefix(s1, 3, &len);
  CHECK(len == 2 && (id == 1 || id == 5));
  const uint8_t s2[] = {'x'};
  CHECK(t.longest_prefix(s2, 1, &len) == -1);
  CHECK(!t.in_trie(4));  // empty
  std::vector<int> seen(vocab.size(), 0);
  for (const int32_t* p = t.subtree_tokens_begin(0); p != t.tokens_end(t.n_nodes() - 1); ++p) seen[static_cast<size_t>(*p)]++;
  for (size_t i = 0; i < vocab.size(); ++i) CHECK(seen[i] == (i == 4 ? 0 : 1));
}

TEST_CASE("grammar: masks equal a brute-force walk of every token, on random vocabularies") {
  const ByteGrammar g = json_like();
  std::mt19937 rng(5);
  const std::string alphabet = "{}\"k: 0123456789x";
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> vocab;
    for (int i = 0; i < 300; ++i) {
      std::string s;
      const int n = 1 + static_cast<int>(rng() % 5);
      for (int j = 0; j < n; ++j) s += alphabet[rng() % alphabet.size()];
      vocab.push_back(s);
    }
    GrammarContext ctx = context_for(vocab);
    auto cg = ctx.compile(std::make_shared<ByteGrammar>(g));
    GrammarMatcher m(&ctx, cg);
    std::string out;
    std::vector<uint64_t> bits;
    for (int step = 0; step < 12; ++step) {
      m.fill_mask(&bits);
      std::vector<int32_t> allowed;
      int wrong = 0;
      for (size_t id = 0; id < vocab.size(); ++id) {
        bool complete = false;
        const bool ref = accepts(g, out + vocab[id], &complete);
        const bool got = (bits[id >> 6] >> (id & 63)) & 1;
        wrong += ref != got;
        if (got) allowed.push_back(static_cast<int32_t>(id));
      }
      CHECK_MSG(wrong == 0, "round %d step %d after '%s': %d tokens disagree", round, step, out.c_str(), wrong);
      if (allowed.empty()) break;
      const int32_t t = allowed[rng() % allowed.size()];
      CHECK(m.accept(t));
      out += vocab[static_cast<size_t>(t)];
    }
  }
}

TEST_CASE("grammar: forced bytes become tokens, all but the last") {
  Builder b;  // root ::= "hello" [0-9]
  b.rules = {{{"lit:hello", "set:0-9"}}};
  const ByteGrammar g = b.build();
  GrammarContext ctx = context_for({"h", "e", "l", "o", "he", "hel", "lo", "1", "o1"});
  GrammarMatcher m(&ctx, ctx.compile(std::make_shared<ByteGrammar>(g)));
  std::vector<int32_t> f;
  m.forced_tokens(100, &f);
  CHECK(f.size() == 1 && f[0] == 5);  // "hel", then "lo" left to the model
  m.forced_tokens(0, &f);
  CHECK(f.empty());
  CHECK(m.accept(5) && m.accept(6));
  m.forced_tokens(100, &f);
  CHECK(f.empty());  // a digit: more than one byte possible
  CHECK(!m.complete() && m.accept(7) && m.complete() && !m.can_continue());
}

// Found by native/fuzz/fuzz-grammar.cc: in an ambiguous grammar the number of stacks alive doubles
// with every byte; the mask (computed from the top frames of each stack) still allowed "]" after
// 11 bytes, while the step died at Pda::kMaxTops stacks, and the scheduler reported "the grammar
// refused a token its own mask allowed". The refusal now says it is the stack limit.
TEST_CASE("grammar: a token the mask allows is refused only at the stack limit, and says so") {
  Builder b;  // root ::= "" | [a-z] root root [a-z]
  b.rules = {{{}, {"set:a-z", "ref:0", "ref:0", "set:a-z"}}};
  const ByteGrammar g = b.build();
  CHECK(validate_grammar(g).ok());
  GrammarContext ctx = context_for({"a", "abcd"});
  GrammarMatcher m(&ctx, ctx.compile(std::make_shared<ByteGrammar>(g)));
  std::vector<uint64_t> bits;
  bool at_limit = true;
  int accepted = 0;
  for (; accepted < 40; ++accepted) {
    m.fill_mask(&bits);
    CHECK((bits[0] & 1u) != 0);  // "a" is always allowed by the top frames
    if (!m.accept(0, &at_limit)) break;
    CHECK(!at_limit);
  }
  CHECK_MSG(accepted > 8 && accepted < 40, "accepted %d", accepted);
  CHECK(at_limit);  // refused because more than kMaxTops stacks would be alive, not by the grammar
  GrammarMatcher fresh(&ctx, ctx.compile(std::make_shared<ByteGrammar>(g)));
  CHECK(fresh.accept(1, &at_limit) && !at_limit);  // "abcd" within the limit
}

TEST_CASE("grammar: the scheduler samples only grammatical tokens, forces, and stops when complete") {
  const char* dir = std::getenv("XLAM_FIXTURES");
  const std::string path = std::string(dir ? dir : "test/fixtures/models") + "/qwen2-sampling-bf16";
  cpu::CpuBackend backend{cpu::CpuOptions{2, false}};
  std::unique_ptr<Model> model;
  Status st = Model::load(path, &backend, &model);
  CHECK_MSG(st.ok(), "loading %s: %s (run `npm test`, which makes the fixtures)", path.c_str(), st.message.c_str());
  if (!st.ok()) return;
  const Hparams& hp = model->hparams();
  KvCache cache;
  CHECK(cache.init(&backend, KvCacheShape{hp.n_layer, hp.n_head_kv, hp.head_dim, 16, 64}).ok());
  Forward forward(model.get(), &cache);
  SchedulerOptions so;
  so.max_context = hp.n_ctx_train;
  Scheduler sched(&forward, &cache, so);
  // Token i < 256 is the byte i; the rest have no bytes (never allowed).
  std::vector<uint8_t> data(256);
  std::vector<uint32_t> offsets(static_cast<size_t>(hp.n_vocab) + 1, 256);
  for (int i = 0; i < 256; ++i) data[static_cast<size_t>(i)] = static_cast<uint8_t>(i), offsets[static_cast<size_t>(i)] = static_cast<uint32_t>(i);
  std::vector<uint8_t> allowed(static_cast<size_t>(hp.n_vocab), 0);
  std::fill(allowed.begin(), allowed.begin() + 256, 1);
  RequestParams p;
  p.prompt = {1, 2, 3};
  p.max_tokens = 64;
  p.sampling.temperature = 1.0f;
  p.grammar = std::make_shared<ByteGrammar>(json_like());
  p.stop_ids = {1000};
  CHECK(sched.add(1, p).code == Code::kInvalidArgument);  // no vocabulary yet
  CHECK(sched.set_vocabulary(data.data(), data.size(), offsets.data(), allowed.data(), hp.n_vocab).ok());
  for (uint64_t id = 1; id <= 6; ++id) {
    p.sampling.seed = id;
    CHECK(sched.add(id, p).ok());
  }
  std::map<uint64_t, std::string> text;
  std::map<uint64_t, RequestEvent> done;
  std::vector<RequestEvent> events;
  for (int guard = 0; sched.has_work() && guard < 10000; ++guard) {
    CHECK(sched.step(&events).ok());
    for (const RequestEvent& e : events) {
      if (e.token >= 0) text[e.id] += static_cast<char>(e.token);
      if (e.finish != FinishReason::kNone) done[e.id] = e;
    }
  }
  for (uint64_t id = 1; id <= 6; ++id) {
    bool complete = false;
    const bool ok = accepts(*p.grammar, text[id], &complete);
    if (done[id].finish == FinishReason::kStop) CHECK_MSG(ok && complete, "request %d: '%s'", static_cast<int>(id), text[id].c_str());
    else CHECK_MSG(done[id].finish == FinishReason::kLength && ok, "request %d: '%s'", static_cast<int>(id), text[id].c_str());
  }
  const SchedulerStats s = sched.stats();
  CHECK(s.grammar_masks > 0);
  // After `"` the bytes `k":` are forced: `k` and `"` are appended, `:` is left to the model.
  CHECK(s.grammar_forced_tokens >= 6 * 2);
}
