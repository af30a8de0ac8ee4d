// The pushdown automaton of a byte grammar, as llama.cpp runs GBNF (llama_grammar_advance_stack):
// a state is a set of stacks of grammar positions, each with a byte set on top; a byte moves
// every stack whose top accepts it, and the references that follow are expanded until byte sets
// are on top again. Stacks are interned nodes (position, parent), so equal stacks are one id and
// share their tails; states (sorted top nodes + "complete") are interned too and every step is
// memoized, so the same walk costs a hash lookup the second time. A reference followed by the
// end of its alternative pushes no return frame (a tail call), so `x*` loops in constant depth.
//
// "Complete" means the bottom frame was popped: the root finished (a runtime state), or, for a
// state built from a few top frames of a stack (token-masks.h), that the walk left those frames.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "byte-grammar.h"

namespace xlam {

struct StackNode {
  int32_t pos;     // the element to match (a byte set for a top; a return position below)
  int32_t parent;  // the node below, -1 at the bottom
  int32_t depth;   // frames in the stack
};

struct PdaState {
  std::vector<int32_t> tops;  // sorted node ids, each with a byte set on top
  bool complete = false;
};

class Pda {
 public:
  static constexpr int32_t kDead = 0;       // no stack, not complete
  static constexpr int32_t kMaxTops = 4096;  // more stacks alive at once: treated as dead
  static constexpr int32_t kMaxDepth = 4096; // deeper stacks are dropped (nesting limit)

  explicit Pda(const ByteGrammar* g);

  // The root expanded, before any byte.
  int32_t initial();
  // The state whose stacks are `chain` expanded: chain is a node whose top may be any element.
  int32_t from_node(int32_t node);
  // The state after `byte`; kDead when no stack takes it, or when more than kMaxTops stacks would
  // be alive (see overflowed). Memoized.
  int32_t step(int32_t state, uint8_t byte);
  // True when step(state, byte) was kDead because of the kMaxTops limit, not because no stack
  // takes the byte. Token masks are computed from the top frames of each stack and do not see
  // this limit, so a token they allow can still be refused here.
  bool overflowed(int32_t state, uint8_t byte) const {
    return overflow_steps_.count((static_cast<uint64_t>(state) << 8) | byte) != 0;
  }
  // Interns a stack node.
  int32_t node(int32_t pos, int32_t parent);

  const PdaState& state(int32_t id) const { return states_[static_cast<size_t>(id)]; }
  const StackNode& node_at(int32_t id) const { return nodes_[static_cast<size_t>(id)]; }
  bool alive(int32_t id) const { return id != kDead; }
  const ByteGrammar& grammar() const { return *g_; }
  // The bytes some stack of the state takes next (256 bits).
  void next_bytes(int32_t state, uint32_t out[8]) const;
  size_t memory_bytes() const;

 private:
  struct VecHash {
    size_t operator()(const std::vector<int32_t>& v) const;
  };
  // Expands (pos, parent) into tops / complete of the accumulator.
  void expand(int32_t pos, int32_t parent);
  int32_t intern_state();

  const ByteGrammar* g_;
  std::vector<StackNode> nodes_;
  std::unordered_map<uint64_t, int32_t> node_index_;
  std::vector<PdaState> states_;
  std::unordered_map<std::vector<int32_t>, int32_t, VecHash> state_index_;
  std::unordered_map<uint64_t, int32_t> step_memo_;
  std::unordered_set<uint64_t> overflow_steps_;  // step_memo_ keys that died of kMaxTops
  int32_t initial_ = -1;
  // Scratch of one expansion.
  std::vector<int32_t> acc_tops_;
  bool acc_complete_ = false;
  bool acc_overflow_ = false;
  std::unordered_set<uint64_t> seen_;
  std::vector<std::pair<int32_t, int32_t>> work_;
  std::vector<int32_t> key_;
};

}  // namespace xlam
