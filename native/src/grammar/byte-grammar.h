// A grammar over bytes, as lib/grammar/bytes.ts lowers it: rules of alternatives, each a run of
// elements (a byte set or a rule reference) ended by END. The matcher runs it as a pushdown
// automaton; validate() makes every index safe and rejects what would make expansion loop.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "../status.h"

namespace xlam {

enum class ElemKind : uint8_t { kEnd = 0, kBytes = 1, kRef = 2 };

struct ByteGrammar {
  std::vector<uint8_t> kind;                   // ElemKind per element
  std::vector<int32_t> arg;                    // byte-set index (kBytes), rule index (kRef), 0 (kEnd)
  std::vector<std::array<uint32_t, 8>> sets;   // 256-bit byte sets
  std::vector<int32_t> rule_alts;              // rule r's alternatives: alt_start[rule_alts[r] .. rule_alts[r+1])
  std::vector<int32_t> alt_start;              // first element of each alternative
  int32_t root = 0;

  int32_t n_rules() const { return static_cast<int32_t>(rule_alts.size()) - 1; }
  ElemKind kind_at(int32_t pos) const { return static_cast<ElemKind>(kind[static_cast<size_t>(pos)]); }
  bool set_has(int32_t set, uint8_t b) const { return (sets[static_cast<size_t>(set)][b >> 5] >> (b & 31)) & 1u; }
};

// Limits of what a request may carry.
constexpr int64_t kMaxGrammarElements = 1 << 22;
constexpr int64_t kMaxGrammarSets = 1 << 16;

// Checks sizes and indices (every alternative ends with END inside the arrays, every reference
// names a rule, every set exists) and rejects left recursion (a rule reaching itself without
// consuming a byte), which would make expansion loop. INVALID_ARGUMENT with the reason.
Status validate_grammar(const ByteGrammar& g);

// A 64-bit FNV-1a hash of the whole grammar (the compiled-grammar cache key, with equality).
uint64_t grammar_hash(const ByteGrammar& g);
bool grammar_equal(const ByteGrammar& a, const ByteGrammar& b);

}  // namespace xlam
