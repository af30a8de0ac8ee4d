// Sampling: the next token from one row of logits, given a request's parameters and the
// tokens it has seen. Order of the logits processors, as transformers' generate applies them:
// logit bias, repetition penalty (prompt and output tokens), presence and frequency penalties
// (output tokens, OpenAI semantics), temperature, top-k, top-p, min-p, then a draw from the
// softmax of what is left with a counter-based generator (Philox), so a seeded request gives the
// same tokens alone or in any batch. Without top-k, top-p and min-p the draw walks the tokens in
// id order (no sort of the vocabulary); with them, in order of probability.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "status.h"

namespace xlam {

struct SamplingParams {
  float temperature = 1.0f;         // 0: greedy (argmax, lowest id on ties)
  int32_t top_k = 0;                // 0: off
  float top_p = 1.0f;               // 1: off
  float min_p = 0.0f;               // 0: off
  float repetition_penalty = 1.0f;  // 1: off; HF: positive logits divided, negative multiplied
  float presence_penalty = 0.0f;    // subtracted once from every token generated so far
  float frequency_penalty = 0.0f;   // subtracted per occurrence in the generated tokens
  std::vector<std::pair<int32_t, float>> logit_bias;  // added to the logits first
  uint64_t seed = 0;                // the request's random stream
};

// Checks ranges (temperature >= 0 and finite, top_p in (0, 1], min_p in [0, 1], top_k >= 0,
// repetition_penalty > 0, penalties in [-2, 2], finite biases, ids inside the vocabulary).
Status validate_sampling(const SamplingParams& p, int64_t n_vocab);

// What SamplerState::sample does once logit bias and penalties are applied, for one row of logits
// (f32 [n_vocab]): greedy when p.temperature is 0, else temperature, top-k, top-p, min-p and draw
// number `step` of the stream p.seed. Reads p.temperature, top_k, top_p, min_p and seed only. -1
// when no token is left: every logit NaN or -inf (greedy: any NaN, or every logit -inf). The CPU
// backend's sample op calls it per row; SamplerState advances `step` after each draw (a token
// >= 0 with temperature > 0).
int32_t draw_from_logits(const float* logits, int64_t n_vocab, const SamplingParams& p, uint64_t step);

// The per-request state the processors need.
class SamplerState {
 public:
  SamplerState(const SamplingParams& params, const std::vector<int32_t>& prompt);
  // Record a generated token.
  void accept(int32_t token);
  const SamplingParams& params() const { return params_; }
  uint64_t steps() const { return steps_; }

  // Chooses the next token from logits (f32 [n_vocab], modified in place). -1 when every
  // logit is NaN or -inf after processing.
  int32_t sample(float* logits, int64_t n_vocab);

 private:
  SamplingParams params_;
  std::unordered_map<int32_t, int32_t> seen_;       // prompt + output tokens (repetition penalty)
  std::unordered_map<int32_t, int32_t> generated_;  // output tokens -> count
  uint64_t steps_ = 0;                              // draws made: the Philox counter
};

}  // namespace xlam
