#include "logprobs.h"

#include <algorithm>
#include <cmath>

namespace xlam {

int32_t argmax(const float* logits, int64_t n_vocab) {
  int32_t best = 0;
  for (int64_t i = 0; i < n_vocab; ++i) {
    if (std::isnan(logits[i])) return -1;
    if (logits[i] > logits[best]) best = static_cast<int32_t>(i);
  }
  return best;
}

void top_logprobs(const float* logits, int64_t n_vocab, int32_t k, std::vector<std::pair<int32_t, float>>* out) {
  out->clear();
  if (k <= 0 || n_vocab <= 0) return;
  double mx = -INFINITY;
  for (int64_t i = 0; i < n_vocab; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
  double sum = 0;
  for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  const double lse = mx + std::log(sum);
  const int64_t kk = std::min<int64_t>(k, n_vocab);
  std::vector<int32_t> idx(static_cast<size_t>(n_vocab));
  for (int64_t i = 0; i < n_vocab; ++i) idx[i] = static_cast<int32_t>(i);
  auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  std::partial_sort(idx.begin(), idx.begin() + kk, idx.end(), better);
  for (int64_t j = 0; j < kk; ++j)
    out->emplace_back(idx[j], static_cast<float>(static_cast<double>(logits[idx[j]]) - lse));
}

}  // namespace xlam
