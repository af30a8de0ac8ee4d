#include <algorithm>
#include <cmath>
#include <vector>

#include "convert.h"
#include "ops.h"

namespace xlam::cpu {

Status moe_route(const Context& ctx, const Tensor& expert_ids,  // i32 [n_tokens, k]
                 const Tensor& expert_weights,                   // f32 [n_tokens, k]
                 const Tensor& logits) {                         // f32 [n_tokens, n_experts]
  XLAM_TRY(check_moe_route(expert_ids, expert_weights, logits));
  const int64_t n = logits.shape[0], n_exp = logits.shape[1], k = expert_ids.shape[1];
  const float* lg = static_cast<const float*>(logits.data);
  int32_t* ids = static_cast<int32_t*>(expert_ids.data);
  float* wts = static_cast<float*>(expert_weights.data);
  (void)ctx;
  std::vector<float> probs(static_cast<size_t>(n_exp));
  std::vector<int32_t> order(static_cast<size_t>(n_exp));
  for (int64_t t = 0; t < n; ++t) {
    const float* row = lg + t * n_exp;
    // As HF Mixtral: softmax over all experts in f32, top-k, renormalise over the chosen.
    float mx = -INFINITY;
    for (int64_t e = 0; e < n_exp; ++e) mx = std::max(mx, row[e]);
    float sum = 0;
    for (int64_t e = 0; e < n_exp; ++e) sum += (probs[e] = std::exp(row[e] - mx));
    for (int64_t e = 0; e < n_exp; ++e) probs[e] /= sum;
    for (int64_t e = 0; e < n_exp; ++e) order[e] = static_cast<int32_t>(e);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return probs[a] > probs[b]; });
    float top = 0;
    for (int64_t j = 0; j < k; ++j) top += probs[order[j]];
    for (int64_t j = 0; j < k; ++j) {
      ids[t * k + j] = order[j];
      wts[t * k + j] = probs[order[j]] / top;
    }
  }
  return Status::Ok();
}

namespace {

// One expert's SwiGLU MLP over gathered rows: y = w2(silu(w1 x) * w3 x).
void expert_mlp(const Context& ctx, float* y,  // f32 [n, n_embd]
                const float* x,                 // f32 [n, n_embd]
                int64_t n, const ExpertWeights& ew) {
  const int64_t ff = ew.w1.shape[0];
  std::vector<float> gate(static_cast<size_t>(n * ff)), up(static_cast<size_t>(n * ff));
  matmul_rows(ctx, gate.data(), x, n, ew.w1, nullptr);
  matmul_rows(ctx, up.data(), x, n, ew.w3, nullptr);
  for (int64_t i = 0; i < n * ff; ++i) {
    if (ctx.reference) {
      const double g = gate[i];
      gate[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
    } else {
      gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
    }
  }
  matmul_rows(ctx, y, gate.data(), n, ew.w2, nullptr);
}

}  // namespace

Status moe_experts(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_embd]
                   const Tensor& x,                         // f32 [n_tokens, n_embd]
                   const Tensor& expert_ids,                // i32 [n_tokens, k]
                   const Tensor& expert_weights,            // f32 [n_tokens, k]
                   const ExpertWeights* experts,            // [n_experts]
                   int32_t n_experts) {
  const char* op = "moe_experts";
  XLAM_TRY(check_moe_experts(out, x, expert_ids, expert_weights));
  const int64_t n = x.shape[0], d = x.shape[1], k = expert_ids.shape[1];
  for (int32_t e = 0; e < n_experts; ++e) XLAM_TRY(check_moe_expert(experts[e], d));
  const int32_t* ids = static_cast<const int32_t*>(expert_ids.data);
  const float* wts = static_cast<const float*>(expert_weights.data);
  for (int64_t i = 0; i < n * k; ++i)
    if (ids[i] < 0 || ids[i] >= n_experts) return expect(false, op, "expert id out of range");
  const float* xd = static_cast<const float*>(x.data);
  float* od = static_cast<float*>(out.data);
  std::fill(od, od + n * d, 0.0f);
  // Experts in index order, each over the tokens routed to it (as HF's loop does), so every
  // token's sum runs over its experts in ascending index order whatever the batch.
  std::vector<int64_t> rows;
  std::vector<float> gathered, y;
  for (int32_t e = 0; e < n_experts; ++e) {
    rows.clear();
    for (int64_t t = 0; t < n; ++t)
      for (int64_t j = 0; j < k; ++j)
        if (ids[t * k + j] == e) rows.push_back(t * k + j);
    if (rows.empty()) continue;
    const int64_t m = static_cast<int64_t>(rows.size());
    gathered.resize(static_cast<size_t>(m * d));
    y.resize(static_cast<size_t>(m * d));
    for (int64_t r = 0; r < m; ++r) std::copy_n(xd + (rows[r] / k) * d, d, gathered.data() + r * d);
    expert_mlp(ctx, y.data(), gathered.data(), m, experts[e]);
    for (int64_t r = 0; r < m; ++r) {
      const float w = wts[rows[r]];
      float* o = od + (rows[r] / k) * d;
      for (int64_t i = 0; i < d; ++i) o[i] += y[r * d + i] * w;
    }
  }
  return Status::Ok();
}

}  // namespace xlam::cpu
