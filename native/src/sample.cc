#include "sample.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "logprobs.h"
#include "philox.h"

namespace xlam {

Status validate_sampling(const SamplingParams& p, int64_t n_vocab) {
  auto bad = [](const std::string& m) { return Status::Error(Code::kInvalidArgument, m); };
  if (!(p.temperature >= 0) || !std::isfinite(p.temperature)) return bad("temperature must be a finite number >= 0");
  if (p.top_k < 0) return bad("topK must be >= 0");
  if (!(p.top_p > 0 && p.top_p <= 1)) return bad("topP must be in (0, 1]");
  if (!(p.min_p >= 0 && p.min_p <= 1)) return bad("minP must be in [0, 1]");
  if (!(p.repetition_penalty > 0) || !std::isfinite(p.repetition_penalty)) return bad("repetitionPenalty must be > 0");
  if (!(p.presence_penalty >= -2 && p.presence_penalty <= 2)) return bad("presencePenalty must be in [-2, 2]");
  if (!(p.frequency_penalty >= -2 && p.frequency_penalty <= 2)) return bad("frequencyPenalty must be in [-2, 2]");
  for (const auto& [id, bias] : p.logit_bias) {
    if (id < 0 || id >= n_vocab) return bad("logitBias token id " + std::to_string(id) + " is outside the vocabulary");
    if (!std::isfinite(bias) && bias != -INFINITY) return bad("logitBias values must be finite or -Infinity");
  }
  return Status::Ok();
}

SamplerState::SamplerState(const SamplingParams& params, const std::vector<int32_t>& prompt) : params_(params) {
  if (params_.repetition_penalty != 1.0f)
    for (int32_t t : prompt) seen_[t] += 1;
}

void SamplerState::accept(int32_t token) {
  if (params_.repetition_penalty != 1.0f) seen_[token] += 1;
  if (params_.presence_penalty != 0 || params_.frequency_penalty != 0) generated_[token] += 1;
}

int32_t SamplerState::sample(float* logits, int64_t n_vocab) {
  const SamplingParams& p = params_;
  for (const auto& [id, bias] : p.logit_bias) logits[id] += bias;
  for (const auto& [id, count] : seen_) {
    (void)count;
    float& l = logits[id];
    l = l > 0 ? l / p.repetition_penalty : l * p.repetition_penalty;
  }
  for (const auto& [id, count] : generated_)
    logits[id] -= p.presence_penalty + p.frequency_penalty * static_cast<float>(count);

  if (p.temperature == 0) return argmax(logits, n_vocab);

  const double inv_t = 1.0 / p.temperature;
  if (p.top_k == 0 && p.top_p >= 1 && p.min_p == 0) {
    // No filter needs the order: one draw over the softmax, in id order (no sort).
    float best = -INFINITY;
    for (int64_t i = 0; i < n_vocab; ++i)
      if (logits[i] > best) best = logits[i];  // NaN compares false
    if (best == -INFINITY) return -1;
    const double top = best * inv_t;
    thread_local std::vector<double> w;  // the engine thread's scratch
    w.resize(static_cast<size_t>(n_vocab));
    double total = 0;
    for (int64_t i = 0; i < n_vocab; ++i) {
      const float l = logits[i];
      const double x = (l == -INFINITY || std::isnan(l)) ? 0.0 : std::exp(l * inv_t - top);
      w[static_cast<size_t>(i)] = x;
      total += x;
    }
    const double u = philox_uniform(p.seed, steps_++) * total;
    double acc = 0;
    int32_t last = -1;
    for (int64_t i = 0; i < n_vocab; ++i) {
      if (w[static_cast<size_t>(i)] == 0) continue;
      acc += w[static_cast<size_t>(i)];
      last = static_cast<int32_t>(i);
      if (u < acc) return last;
    }
    return last;
  }

  // Candidates by logit, best first (ties: lower id), then the filters on the sorted list.
  std::vector<int32_t> ids;
  ids.reserve(static_cast<size_t>(n_vocab));
  for (int64_t i = 0; i < n_vocab; ++i)
    if (!std::isnan(logits[i]) && logits[i] != -INFINITY) ids.push_back(static_cast<int32_t>(i));
  if (ids.empty()) return -1;
  auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  size_t keep = ids.size();
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < keep) {
    keep = static_cast<size_t>(p.top_k);
    std::partial_sort(ids.begin(), ids.begin() + keep, ids.end(), better);
  } else {
    std::sort(ids.begin(), ids.end(), better);
  }
  ids.resize(keep);
  const double top = logits[ids[0]] * inv_t;
  std::vector<double> prob(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += (prob[i] = std::exp(logits[ids[i]] * inv_t - top));
  for (double& x : prob) x /= sum;
  if (p.top_p < 1) {  // smallest prefix whose mass reaches top_p (at least one token)
    double mass = 0;
    size_t n = 0;
    while (n < keep && mass < p.top_p) mass += prob[n++];
    keep = std::max<size_t>(n, 1);
  }
  if (p.min_p > 0) {  // tokens with probability >= min_p * the best one's
    const double floor = p.min_p * prob[0];
    size_t n = 1;
    while (n < keep && prob[n] >= floor) ++n;
    keep = n;
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += prob[i];
  const double u = philox_uniform(p.seed, steps_++) * total;
  double acc = 0;
  for (size_t i = 0; i < keep; ++i) {
    acc += prob[i];
    if (u < acc) return ids[i];
  }
  return ids[keep - 1];
}

}  // namespace xlam
