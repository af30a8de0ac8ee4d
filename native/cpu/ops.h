// The CPU backend's ops, one file each (same names as cuda/). Each op has a plain reference
// path (simple loops, f64 reductions, one thread) that is the oracle, and a fast path (both
// cores; per-element reduction order independent of the batch, so results are batch-invariant).
#pragma once
#include "../src/backend.h"
#include "../src/op-checks.h"
#include "kernels.h"
#include "thread-pool.h"

namespace xlam::cpu {

struct Context {
  ThreadPool* pool = nullptr;
  bool reference = false;  // use the plain reference loops
  const Kernels* kernels = nullptr;  // SIMD kernels of the fast path
};


Status embedding(const Context& ctx, const Tensor& out, const Tensor& table, const Tensor& ids);
Status get_rows(const Context& ctx, const Tensor& out, const Tensor& x, const Tensor& rows);
Status rms_norm(const Context& ctx, const Tensor& out, const Tensor& x, const Tensor& weight, float eps);
Status add_rms_norm(const Context& ctx, const Tensor& out, const Tensor& residual, const Tensor& delta,
                    const Tensor& weight, float eps);
Status matmul(const Context& ctx, const Tensor& out, const Tensor& x, const Tensor& w, const Tensor* bias);
Status rope(const Context& ctx, const Tensor& x, const Tensor& positions, const Tensor& inv_freq,
            float attn_factor);
Status kv_write(const Context& ctx, const Tensor& k_cache, const Tensor& v_cache, const Tensor& k,
                const Tensor& v, const Tensor& slot_mapping);
Status copy_blocks(const Context& ctx, const Tensor& k_cache, const Tensor& v_cache, const Tensor& block_pairs);
Status attention(const Context& ctx, const Tensor& out, const Tensor& q, const Tensor& k_cache,
                 const Tensor& v_cache, const Tensor& block_tables, const Tensor& token_seq,
                 const Tensor& positions, float scale, int32_t sliding_window);
Status silu_mul(const Context& ctx, const Tensor& out, const Tensor& gate, const Tensor& up);
// out = x @ w^T (+ bias) on raw host rows; shared by matmul and moe_experts.
void matmul_rows(const Context& ctx, float* out,  // f32 [n_tokens, n_out]
                 const float* x,                   // f32 [n_tokens, n_in]
                 int64_t n_tokens, const Tensor& w,  // w [n_out, n_in]
                 const Tensor* bias);              // w [n_out] or nullptr
Status moe_route(const Context& ctx, const Tensor& expert_ids, const Tensor& expert_weights,
                 const Tensor& logits);
Status moe_experts(const Context& ctx, const Tensor& out, const Tensor& x, const Tensor& expert_ids,
                   const Tensor& expert_weights, const ExpertWeights* experts, int32_t n_experts);
Status apply_token_mask(const Context& ctx, const Tensor& logits, const Tensor& mask);
Status sample(const Context& ctx, const Tensor& out, const Tensor& logits, const Tensor& params, const Tensor& rng);

}  // namespace xlam::cpu
