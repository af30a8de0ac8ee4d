// Greedy choice and log-softmax top-k over one row of logits (host f32).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

namespace xlam {

// Index of the largest logit; the lowest index wins ties (as torch.argmax). -1 if any is NaN.
int32_t argmax(const float* logits, int64_t n_vocab);

// The k most likely ids with their log-softmax values (computed in f64), best first, ties by id.
void top_logprobs(const float* logits, int64_t n_vocab, int32_t k, std::vector<std::pair<int32_t, float>>* out);

}  // namespace xlam
