// moe_route: per token, the top-k experts by router probability and their renormalised weights,
// computed as the CPU op does so the ids agree exactly: probabilities in f32 as
// exp(logit - max) / sum (the sum accumulated in expert order, each step rounded), the top k by
// probability with ties to the lower index (stable_sort), weights p / (sum of the chosen p in
// order). exp is evaluated in f64 and rounded once (the correctly rounded f32 exp in all but
// vanishingly rare cases, as glibc's expf that the CPU uses), not with the GPU's 2-ulp expf, which
// could turn distinct probabilities into ties. One thread per token walks the experts k + 2 times
// (no per-thread arrays); selection j picks the best expert strictly after selection j - 1 in the
// order (probability descending, index ascending; NaN probabilities last), so ids are always in
// range and distinct.
#include <climits>
#include <cmath>
#include <cstdint>

#include "common/convert.cuh"
#include "common/gpu-compat.h"
#include "ops.h"

namespace xlam::cuda {

namespace {

constexpr int kThreads = 128;

__device__ __forceinline__ float exp_f32(float x) { return static_cast<float>(exp(static_cast<double>(x))); }

// (pa, ea) comes before (pb, eb): higher probability first, lower index on ties, NaN last.
__device__ __forceinline__ bool before(float pa, int ea, float pb, int eb) {
  const bool na = pa != pa, nb = pb != pb;  // NaN
  if (na || nb) return na && nb ? ea < eb : nb;
  return pa > pb || (pa == pb && ea < eb);
}

__global__ void __launch_bounds__(kThreads) moe_route_kernel(int32_t* ids,          // i32 [n, k]
                                                             float* weights,        // f32 [n, k]
                                                             const float* logits,   // f32 [n, n_experts]
                                                             int64_t n, int n_experts, int k) {
  const int64_t t = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (t >= n) return;
  const float* row = logits + t * n_experts;
  float mx = -INFINITY;
  for (int e = 0; e < n_experts; ++e) mx = mx < row[e] ? row[e] : mx;  // std::max(mx, row[e])
  float sum = 0.f;
  for (int e = 0; e < n_experts; ++e) sum = gpu::add_rn(sum, exp_f32(gpu::sub_rn(row[e], mx)));
  float top = 0.f, last_p = 0.f;
  int last_e = -1;
  for (int j = 0; j < k; ++j) {
    int best = -1;
    float best_p = 0.f;
    for (int e = 0; e < n_experts; ++e) {
      const float p = gpu::div_rn(exp_f32(gpu::sub_rn(row[e], mx)), sum);
      if (last_e >= 0 && !before(last_p, last_e, p, e)) continue;  // already chosen
      if (best < 0 || before(p, e, best_p, best)) {
        best = e;
        best_p = p;
      }
    }
    ids[t * k + j] = best;  // k <= n_experts: there is always one left
    weights[t * k + j] = best_p;
    top = gpu::add_rn(top, best_p);
    last_p = best_p;
    last_e = best;
  }
  for (int j = 0; j < k; ++j) weights[t * k + j] = gpu::div_rn(weights[t * k + j], top);
}

}  // namespace

Status moe_route(const Context& ctx, const Tensor& expert_ids,  // i32 [n_tokens, k]
                 const Tensor& expert_weights,                   // f32 [n_tokens, k]
                 const Tensor& logits) {                         // f32 [n_tokens, n_experts]
  const char* op = "moe_route";
  XLAM_TRY(check_moe_route(expert_ids, expert_weights, logits));
  const int64_t n = logits.shape[0], n_exp = logits.shape[1], k = expert_ids.shape[1];
  XLAM_TRY(expect(n_exp <= INT_MAX && n / kThreads < INT_MAX, op, "too many tokens or experts"));
  if (n == 0) return Status::Ok();
  const dim3 grid(static_cast<unsigned>((n + kThreads - 1) / kThreads));
  return launch_status(gpu::launch(moe_route_kernel, grid, dim3(kThreads), 0, ctx.stream,
                                   static_cast<int32_t*>(expert_ids.data), static_cast<float*>(expert_weights.data),
                                   static_cast<const float*>(logits.data), n, static_cast<int>(n_exp),
                                   static_cast<int>(k)),
                       op);
}

}  // namespace xlam::cuda
