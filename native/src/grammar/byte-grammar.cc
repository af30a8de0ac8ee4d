#include "byte-grammar.h"

#include <string>

namespace xlam {

namespace {

Status bad(const std::string& m) { return Status::Error(Code::kInvalidArgument, "grammar: " + m); }

}  // namespace

Status validate_grammar(const ByteGrammar& g) {
  const int64_t n = static_cast<int64_t>(g.kind.size());
  if (n == 0 || n > kMaxGrammarElements) return bad("element count must be in 1.." + std::to_string(kMaxGrammarElements));
  if (static_cast<int64_t>(g.arg.size()) != n) return bad("kind and arg differ in length");
  if (g.sets.size() > static_cast<size_t>(kMaxGrammarSets)) return bad("too many byte sets");
  if (g.rule_alts.size() < 2) return bad("no rules");
  const int32_t n_rules = g.n_rules();
  if (g.root < 0 || g.root >= n_rules) return bad("root is not a rule");
  const int64_t n_alts = static_cast<int64_t>(g.alt_start.size());
  if (g.rule_alts[0] != 0 || g.rule_alts.back() != n_alts) return bad("ruleAlts does not cover altStart");
  for (int32_t r = 0; r < n_rules; ++r)
    if (g.rule_alts[static_cast<size_t>(r)] > g.rule_alts[static_cast<size_t>(r) + 1]) return bad("ruleAlts is not ascending");
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t k = g.kind[static_cast<size_t>(i)];
    const int32_t a = g.arg[static_cast<size_t>(i)];
    if (k > 2) return bad("unknown element kind " + std::to_string(k));
    if (k == 1 && (a < 0 || static_cast<size_t>(a) >= g.sets.size())) return bad("byte set index out of range");
    if (k == 2 && (a < 0 || a >= n_rules)) return bad("rule index out of range");
  }
  // Every alternative ends with END before the arrays do.
  for (int32_t s : g.alt_start) {
    if (s < 0 || s >= n) return bad("alternative start out of range");
    int64_t p = s;
    while (p < n && g.kind[static_cast<size_t>(p)] != 0) ++p;
    if (p == n) return bad("an alternative has no END");
  }
  // Left recursion: nullable rules, then a cycle over "leftmost" references.
  std::vector<char> nullable(static_cast<size_t>(n_rules), 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (int32_t r = 0; r < n_rules; ++r) {
      if (nullable[static_cast<size_t>(r)]) continue;
      for (int32_t ai = g.rule_alts[static_cast<size_t>(r)]; ai < g.rule_alts[static_cast<size_t>(r) + 1]; ++ai) {
        bool all = true;
        for (int32_t p = g.alt_start[static_cast<size_t>(ai)]; g.kind[static_cast<size_t>(p)] != 0; ++p) {
          if (g.kind[static_cast<size_t>(p)] != 2 || !nullable[static_cast<size_t>(g.arg[static_cast<size_t>(p)])]) {
            all = false;
            break;
          }
        }
        if (all) {
          nullable[static_cast<size_t>(r)] = 1;
          changed = true;
          break;
        }
      }
    }
  }
  std::vector<std::vector<int32_t>> left(static_cast<size_t>(n_rules));
  for (int32_t r = 0; r < n_rules; ++r)
    for (int32_t ai = g.rule_alts[static_cast<size_t>(r)]; ai < g.rule_alts[static_cast<size_t>(r) + 1]; ++ai)
      for (int32_t p = g.alt_start[static_cast<size_t>(ai)]; g.kind[static_cast<size_t>(p)] == 2; ++p) {
        const int32_t to = g.arg[static_cast<size_t>(p)];
        left[static_cast<size_t>(r)].push_back(to);
        if (!nullable[static_cast<size_t>(to)]) break;
      }
  // Iterative DFS with colours (0 new, 1 on the path, 2 done).
  std::vector<uint8_t> colour(static_cast<size_t>(n_rules), 0);
  std::vector<std::pair<int32_t, size_t>> path;
  for (int32_t start = 0; start < n_rules; ++start) {
    if (colour[static_cast<size_t>(start)]) continue;
    path.push_back({start, 0});
    colour[static_cast<size_t>(start)] = 1;
    while (!path.empty()) {
      auto& [r, i] = path.back();
      const auto& edges = left[static_cast<size_t>(r)];
      if (i == edges.size()) {
        colour[static_cast<size_t>(r)] = 2;
        path.pop_back();
        continue;
      }
      const int32_t to = edges[i++];
      if (colour[static_cast<size_t>(to)] == 1) return bad("left recursion through rule " + std::to_string(to));
      if (colour[static_cast<size_t>(to)] == 0) {
        colour[static_cast<size_t>(to)] = 1;
        path.push_back({to, 0});
      }
    }
  }
  return Status::Ok();
}

namespace {

struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  template <typename T>
  void vec(const std::vector<T>& v) {
    const uint64_t n = v.size();
    add(&n, sizeof n);
    if (n) add(v.data(), v.size() * sizeof(T));
  }
};

}  // namespace

uint64_t grammar_hash(const ByteGrammar& g) {
  Fnv f;
  f.vec(g.kind);
  f.vec(g.arg);
  f.vec(g.sets);
  f.vec(g.rule_alts);
  f.vec(g.alt_start);
  f.add(&g.root, sizeof g.root);
  return f.h;
}

bool grammar_equal(const ByteGrammar& a, const ByteGrammar& b) {
  return a.root == b.root && a.kind == b.kind && a.arg == b.arg && a.sets == b.sets && a.rule_alts == b.rule_alts &&
         a.alt_start == b.alt_start;
}

}  // namespace xlam
