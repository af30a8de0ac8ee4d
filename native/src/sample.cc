#include "sample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "logprobs.h"
#include "philox.h"
#include "sample-math.h"

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

namespace {

constexpr int64_t kBlock = kDrawBlock;

// The draw without top-k, top-p or min-p: no sort, the tokens in id order.
int32_t draw_unfiltered(const float* logits, int64_t n_vocab, float inv_t, uint64_t seed, uint64_t step) {
  // Weights e^((l - max) / T) (NaN and -inf: 0), summed in blocks; the draw finds its block from
  // the block sums, then its token inside the block in id order (where rounding leaves the draw
  // past the block's last token, that token).
  // The maximum over 16 interleaved running maxima: independent chains instead of one (the
  // select does not vectorize, but the chains overlap). NaN never wins.
  constexpr int kLanes = 16;
  float lane_best[kLanes];
  std::fill(lane_best, lane_best + kLanes, -INFINITY);
  int64_t i0 = 0;
  for (; i0 + kLanes <= n_vocab; i0 += kLanes)
    for (int j = 0; j < kLanes; ++j) lane_best[j] = logits[i0 + j] > lane_best[j] ? logits[i0 + j] : lane_best[j];
  float best = -INFINITY;
  for (; i0 < n_vocab; ++i0) best = logits[i0] > best ? logits[i0] : best;
  for (float b : lane_best) best = b > best ? b : best;
  if (!(best > -INFINITY)) return -1;
  const float top = mul_rn(best, inv_t);
  thread_local std::vector<float> weights;  // scratch of the engine thread
  thread_local std::vector<double> block_sums;
  weights.resize(static_cast<size_t>(n_vocab));
  float* w = weights.data();
  for (int64_t i = 0; i < n_vocab; ++i) w[i] = draw_weight(logits[i], inv_t, top);  // NaN and -inf: 0
  const int64_t n_blocks = (n_vocab + kBlock - 1) / kBlock;
  block_sums.assign(static_cast<size_t>(n_blocks), 0.0);
  double total = 0;
  for (int64_t b = 0; b < n_blocks; ++b) {
    // Four running sums (token id mod 4), so the additions vectorize.
    double lane[4] = {0, 0, 0, 0};
    int64_t i = b * kBlock;
    const int64_t e = std::min(n_vocab, i + kBlock);
    for (; i + 4 <= e; i += 4)
      for (int j = 0; j < 4; ++j) lane[j] += w[i + j];
    for (; i < e; ++i) lane[0] += w[i];
    const double s = (lane[0] + lane[1]) + (lane[2] + lane[3]);
    block_sums[static_cast<size_t>(b)] = s;
    total += s;
  }
  const double u = philox_uniform(seed, step) * total;
  double acc = 0;
  int64_t b = 0;
  while (b + 1 < n_blocks && (block_sums[static_cast<size_t>(b)] == 0 || u >= acc + block_sums[static_cast<size_t>(b)]))
    acc += block_sums[static_cast<size_t>(b++)];
  int32_t last = -1;
  for (int64_t i = b * kBlock, e = std::min(n_vocab, i + kBlock); i < e; ++i) {
    if (w[i] == 0) continue;
    acc += w[i];
    last = static_cast<int32_t>(i);
    if (u < acc) return last;
  }
  if (last >= 0) return last;
  for (int64_t i = n_vocab; i-- > 0;)  // rounding left u past every block: the last weighted token
    if (w[i] > 0) return static_cast<int32_t>(i);
  return -1;
}

}  // namespace

int32_t draw_from_logits(const float* logits, int64_t n_vocab, const SamplingParams& p, uint64_t step) {
  if (n_vocab <= 0) return -1;
  if (p.temperature == 0) {
    const int32_t best = argmax(logits, n_vocab);
    return best >= 0 && logits[best] > -INFINITY ? best : -1;
  }
  const double inv_t = 1.0 / p.temperature;
  if (p.top_k == 0 && p.top_p >= 1 && p.min_p == 0)
    return draw_unfiltered(logits, n_vocab, static_cast<float>(inv_t), p.seed, step);

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
  const double top = mul_rn(static_cast<double>(logits[ids[0]]), inv_t);
  std::vector<double> prob(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += (prob[i] = filtered_weight(logits[ids[i]], inv_t, top));
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
  const double u = philox_uniform(p.seed, step) * total;
  double acc = 0;
  for (size_t i = 0; i < keep; ++i) {
    acc += prob[i];
    if (u < acc) return ids[i];
  }
  return ids[keep - 1];
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

  const int32_t token = draw_from_logits(logits, n_vocab, p, steps_);
  if (token >= 0 && p.temperature != 0) ++steps_;  // a draw was made
  return token;
}

}  // namespace xlam
