// Constrained decoding for one request: the grammar's state over the tokens generated so far,
// the mask of tokens allowed next, and the continuation the grammar forces. A GrammarContext
// (one per engine, used on the engine thread only) holds the vocabulary trie, the compiled
// grammars (shared by requests with equal grammars) and the engine-wide cache of mask entries.
#pragma once
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "byte-grammar.h"
#include "pda.h"
#include "token-masks.h"
#include "vocab-trie.h"

namespace xlam {

struct CompiledGrammar {
  explicit CompiledGrammar(std::shared_ptr<const ByteGrammar> grammar) : g(std::move(grammar)), pda(g.get()) {}
  struct FramesHash {
    size_t operator()(const std::vector<int32_t>& v) const;
  };
  std::shared_ptr<const ByteGrammar> g;
  Pda pda;
  uint64_t hash = 0;
  std::unordered_map<std::vector<int32_t>, std::shared_ptr<const MaskEntry>, FramesHash> entries;
  // Whole masks of recent states (a string's contents repeat one state token after token).
  std::unordered_map<int32_t, std::vector<uint64_t>> state_masks;
  std::vector<int32_t> state_mask_order;  // oldest first
  static constexpr size_t kStateMasks = 16;
};

struct GrammarStats {
  int64_t masks = 0;             // masks computed
  int64_t entries_built = 0;     // trie walks (cache misses)
  int64_t entries_shared = 0;    // entries found in the engine-wide cache
  int64_t uncertain_checked = 0; // tokens decided at run time
  int64_t state_mask_hits = 0;   // masks copied from an earlier step in the same state
};

class GrammarContext {
 public:
  // The vocabulary (see VocabTrie::build). Set once; later calls keep the first.
  Status set_vocabulary(const uint8_t* data, size_t data_len, const uint32_t* offsets, const uint8_t* allowed, int64_t n_vocab);
  bool has_vocabulary() const { return trie_ != nullptr; }
  const VocabTrie& trie() const { return *trie_; }
  // The compiled grammar equal to g (built on first use; up to kMaxGrammars kept).
  std::shared_ptr<CompiledGrammar> compile(std::shared_ptr<const ByteGrammar> g);
  // The mask entry of the frames of a stack top (built or shared on first use).
  const MaskEntry& entry(CompiledGrammar* cg, int32_t node);
  GrammarStats& stats() { return stats_; }
  const GrammarStats& stats() const { return stats_; }
  MaskCache& cache() { return cache_; }

  static constexpr size_t kMaxGrammars = 64;

 private:
  std::unique_ptr<VocabTrie> trie_;
  MaskCache cache_;
  std::vector<std::shared_ptr<CompiledGrammar>> grammars_;  // most recent last
  std::vector<int32_t> frames_;
  GrammarStats stats_;
};

class GrammarMatcher {
 public:
  GrammarMatcher(GrammarContext* ctx, std::shared_ptr<CompiledGrammar> cg);

  // Sets bits (over the vocabulary, words of 64) of the tokens the grammar allows next; stop
  // tokens are the caller's (allowed only when complete()).
  void fill_mask(std::vector<uint64_t>* bits);
  // Takes a token: false (state unchanged) when the grammar does not allow its bytes.
  // *at_limit (if given) is set when the refusal came from the stack limit (Pda::overflowed): the
  // grammar is too ambiguous here, and the mask may have allowed the token.
  bool accept(int32_t token, bool* at_limit = nullptr);
  // Takes one byte (tests): false (state unchanged) when no stack takes it.
  bool accept_byte(uint8_t b);
  // The output so far is a complete sentence of the grammar.
  bool complete() const { return cg_->pda.state(state_).complete; }
  // Some byte can still follow.
  bool can_continue() const { return !cg_->pda.state(state_).tops.empty(); }
  // Tokens that spell the bytes the grammar forces next (only one byte possible at each step),
  // greedily by longest token, leaving out the last one so the model picks how to cross from
  // the forced text into free text. At most max tokens. Does not accept them.
  void forced_tokens(int64_t max, std::vector<int32_t>* out);

 private:
  void compute_mask(uint64_t* out);  // out: zeroed words over the vocabulary

  GrammarContext* ctx_;
  std::shared_ptr<CompiledGrammar> cg_;
  int32_t state_;
  std::vector<int32_t> path_;  // scratch: states by depth for the uncertain walk
};

}  // namespace xlam
