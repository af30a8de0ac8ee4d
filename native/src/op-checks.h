// Argument checks shared by every backend's ops (cpu/, cuda/): each returns INVALID_ARGUMENT
// naming the op and the argument, so a wrong shape or dtype never reaches a kernel.
#pragma once
#include "backend.h"
#include "status.h"
#include "tensor.h"

namespace xlam {

inline bool is_weight_dtype(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

Status expect(bool cond, const char* op, const char* what);
Status expect_f32(const Tensor& t, int n_dims, const char* op, const char* what);
Status expect_i32(const Tensor& t, int n_dims, const char* op, const char* what);
Status expect_weight(const Tensor& t, int n_dims, const char* op, const char* what);

// One check per op: the shape and dtype checks every backend makes before its own (the CPU's
// range checks over host index data, CUDA's 32-bit and kernel limits). "w" is f32, f16 or bf16.

Status check_attention(const Tensor& out,           // f32 [n_tokens, n_heads, head_dim]
                       const Tensor& q,             // f32 [n_tokens, n_heads, head_dim]
                       const Tensor& k_cache,       // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                       const Tensor& v_cache,       // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                       const Tensor& block_tables,  // i32 [n_seqs, max_blocks_per_seq]
                       const Tensor& token_seq,     // i32 [n_tokens]
                       const Tensor& positions);    // i32 [n_tokens]
Status check_kv_write(const Tensor& k_cache,         // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                      const Tensor& v_cache,         // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                      const Tensor& k,               // f32 [n_tokens, n_kv_heads, head_dim]
                      const Tensor& v,               // f32 [n_tokens, n_kv_heads, head_dim]
                      const Tensor& slot_mapping);   // i32 [n_tokens]
Status check_copy_blocks(const Tensor& k_cache,      // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                         const Tensor& v_cache,      // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                         const Tensor& block_pairs); // i32 [n_pairs, 2]: (src, dst)
Status check_matmul(const Tensor& out,    // f32 [n_tokens, n_out]
                    const Tensor& x,      // f32 [n_tokens, n_in]
                    const Tensor& w,      // w [n_out, n_in]
                    const Tensor* bias);  // w [n_out] or nullptr
Status check_rms_norm(const Tensor& out,      // f32 [n_tokens, n_embd]
                      const Tensor& x,        // f32 [n_tokens, n_embd]
                      const Tensor& weight);  // w [n_embd]
Status check_add_rms_norm(const Tensor& out,       // f32 [n_tokens, n_embd]
                          const Tensor& residual,  // f32 [n_tokens, n_embd]
                          const Tensor& delta,     // f32 [n_tokens, n_embd]
                          const Tensor& weight);   // w [n_embd]
Status check_rope(const Tensor& x,           // f32 [n_tokens, n_heads, head_dim]
                  const Tensor& positions,   // i32 [n_tokens]
                  const Tensor& inv_freq);   // f32 [head_dim / 2]
Status check_silu_mul(const Tensor& out,   // f32 [n_tokens, n_ff]
                      const Tensor& gate,  // f32 [n_tokens, n_ff]
                      const Tensor& up);   // f32 [n_tokens, n_ff]
Status check_embedding(const Tensor& out,    // f32 [n_tokens, n_embd]
                       const Tensor& table,  // w [n_vocab, n_embd]
                       const Tensor& ids);   // i32 [n_tokens]
Status check_get_rows(const Tensor& out,    // f32 [n_rows, n]
                      const Tensor& x,      // f32 [n_tokens, n]
                      const Tensor& rows);  // i32 [n_rows]
Status check_moe_route(const Tensor& expert_ids,      // i32 [n_tokens, k]
                       const Tensor& expert_weights,  // f32 [n_tokens, k]
                       const Tensor& logits);         // f32 [n_tokens, n_experts]
// moe_experts' activations; each expert's weights go through check_moe_expert.
Status check_moe_experts(const Tensor& out,              // f32 [n_tokens, n_embd]
                         const Tensor& x,                // f32 [n_tokens, n_embd]
                         const Tensor& expert_ids,       // i32 [n_tokens, k]
                         const Tensor& expert_weights);  // f32 [n_tokens, k]
// One expert of moe_experts: w1, w3 w [n_ff, n_embd], w2 w [n_embd, n_ff].
Status check_moe_expert(const ExpertWeights& ew, int64_t n_embd);
Status check_apply_token_mask(const Tensor& logits,  // f32 [n_rows, n_vocab]
                              const Tensor& mask);   // i32 [n_rows, n_words]
Status check_sample(const Tensor& out,      // i32 [n_rows]
                    const Tensor& logits,   // f32 [n_rows, n_vocab], n_vocab <= 2^30
                    const Tensor& params,   // f32 [n_rows, 4]
                    const Tensor& rng);     // i32 [n_rows, 4]

}  // namespace xlam
