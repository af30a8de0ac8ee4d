// The op-level backend interface. The model is written once against it; the CPU backend
// (native/cpu) implements it now and the CUDA backend (cuda/) later, with the same op names.
// Every op takes its output first. Shapes are in PyTorch order; "f32 [n_tokens, n_embd]" means a
// contiguous row-major f32 tensor with n_tokens rows of n_embd values. "w" dtypes: f32, f16 or bf16.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "status.h"
#include "tensor.h"

namespace xlam {

// The three weights of one SwiGLU expert (Mixtral naming: w1 = gate, w3 = up, w2 = down).
struct ExpertWeights {
  Tensor w1;  // w [n_ff, n_embd]
  Tensor w3;  // w [n_ff, n_embd]
  Tensor w2;  // w [n_embd, n_ff]
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // The kernel set the backend runs (e.g. "avx512" for the CPU); "" when it has only one.
  virtual std::string kernels() const { return ""; }

  // --- memory -------------------------------------------------------------------------------
  // Allocate an uninitialised tensor in backend memory.
  virtual Status alloc(DType dtype, const Shape& shape, Tensor* out) = 0;
  // Free a tensor made by alloc() or adopt_host(); a no-op on an empty tensor. Leaves it empty.
  virtual void release(Tensor* t) = 0;
  // Make a weight tensor from host memory that outlives the tensor (a file mapping). A backend
  // that can read the memory in place does so (*zero_copy = true); otherwise it copies.
  virtual Status adopt_host(const void* host, DType dtype, const Shape& shape, Tensor* out,
                            bool* zero_copy) = 0;
  // Copy bytes between host memory and a tensor (whole tensor).
  virtual Status upload(const Tensor& dst, const void* src, size_t nbytes) = 0;
  virtual Status download(void* dst, const Tensor& src, size_t nbytes) = 0;

  // --- ops ------------------------------------------------------------------------------------
  // out[i, :] = f32(table[ids[i], :]).
  virtual Status embedding(const Tensor& out,     // f32 [n_tokens, n_embd]
                           const Tensor& table,   // w [n_vocab, n_embd]
                           const Tensor& ids) = 0;  // i32 [n_tokens]

  // out[i, :] = x[rows[i], :].
  virtual Status get_rows(const Tensor& out,      // f32 [n_rows, n]
                          const Tensor& x,        // f32 [n_tokens, n]
                          const Tensor& rows) = 0;  // i32 [n_rows]

  // out = x / sqrt(mean(x^2) + eps) * weight, per row (HF LlamaRMSNorm, computed in f32).
  virtual Status rms_norm(const Tensor& out,      // f32 [n_tokens, n_embd]
                          const Tensor& x,        // f32 [n_tokens, n_embd]
                          const Tensor& weight,   // w [n_embd]
                          float eps) = 0;

  // Fused residual add + norm: residual += delta; out = rms_norm(residual) * weight.
  virtual Status add_rms_norm(const Tensor& out,       // f32 [n_tokens, n_embd]
                              const Tensor& residual,  // f32 [n_tokens, n_embd], updated in place
                              const Tensor& delta,     // f32 [n_tokens, n_embd]
                              const Tensor& weight,    // w [n_embd]
                              float eps) = 0;

  // out = x @ w^T (+ bias): a Linear layer with HF weight layout [out_features, in_features].
  virtual Status matmul(const Tensor& out,     // f32 [n_tokens, n_out]
                        const Tensor& x,       // f32 [n_tokens, n_in]
                        const Tensor& w,       // w [n_out, n_in]
                        const Tensor* bias) = 0;  // w [n_out] or nullptr

  // Rotary embedding, rotate-half form (HF apply_rotary_pos_emb), in place:
  // angle = positions[i] * inv_freq[j]; cos/sin multiplied by attn_factor.
  virtual Status rope(const Tensor& x,          // f32 [n_tokens, n_heads, head_dim], in place
                      const Tensor& positions,  // i32 [n_tokens]
                      const Tensor& inv_freq,   // f32 [head_dim / 2]
                      float attn_factor) = 0;

  // Write new K/V rows into the paged cache: token i goes to slot slot_mapping[i]
  // (block = slot / block_size, offset = slot % block_size); a negative slot is padding, skipped.
  virtual Status kv_write(const Tensor& k_cache,        // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                          const Tensor& v_cache,        // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                          const Tensor& k,              // f32 [n_tokens, n_kv_heads, head_dim]
                          const Tensor& v,              // f32 [n_tokens, n_kv_heads, head_dim]
                          const Tensor& slot_mapping) = 0;  // i32 [n_tokens]

  // Copy whole cache blocks, K and V, for every pair (src, dst): preemption swaps and prefix
  // forks. Pairs must not chain (no dst is another pair's src) and dst blocks must be distinct.
  virtual Status copy_blocks(const Tensor& k_cache,          // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                             const Tensor& v_cache,          // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                             const Tensor& block_pairs) = 0;  // i32 [n_pairs, 2]: (src, dst)

  // Causal attention over the paged cache (GQA: query head h reads kv head h / (n_heads/n_kv_heads)).
  // Token i belongs to sequence token_seq[i] at position positions[i] and attends to that
  // sequence's cached positions max(0, p - window + 1) ..= p (window 0: no sliding window),
  // found through block_tables. The cache must already hold position p (kv_write first).
  virtual Status attention(const Tensor& out,           // f32 [n_tokens, n_heads, head_dim]
                           const Tensor& q,             // f32 [n_tokens, n_heads, head_dim]
                           const Tensor& k_cache,       // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                           const Tensor& v_cache,       // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                           const Tensor& block_tables,  // i32 [n_seqs, max_blocks_per_seq]
                           const Tensor& token_seq,     // i32 [n_tokens]
                           const Tensor& positions,     // i32 [n_tokens]
                           float scale, int32_t sliding_window) = 0;

  // out = silu(gate) * up.
  virtual Status silu_mul(const Tensor& out,         // f32 [n_tokens, n_ff]
                          const Tensor& gate,        // f32 [n_tokens, n_ff]
                          const Tensor& up) = 0;     // f32 [n_tokens, n_ff]

  // Mixtral routing: per token, the top-k experts by router logit (ties: lower index first) and
  // their weights softmax(top-k logits) (= softmax over all, renormalised over the top k).
  virtual Status moe_route(const Tensor& expert_ids,      // i32 [n_tokens, k]
                           const Tensor& expert_weights,  // f32 [n_tokens, k]
                           const Tensor& logits) = 0;     // f32 [n_tokens, n_experts]

  // out[i] = sum_j expert_weights[i, j] * w2_e(silu(w1_e x_i) * w3_e x_i), e = expert_ids[i, j].
  virtual Status moe_experts(const Tensor& out,             // f32 [n_tokens, n_embd]
                             const Tensor& x,               // f32 [n_tokens, n_embd]
                             const Tensor& expert_ids,      // i32 [n_tokens, k]
                             const Tensor& expert_weights,  // f32 [n_tokens, k]
                             const ExpertWeights* experts,  // [n_experts]
                             int32_t n_experts) = 0;

  // --- sampling -------------------------------------------------------------------------------
  // Grammar masks: every logit whose token the row's mask does not allow becomes -inf; the others
  // are left as they are. Bit j of word w (i32, bit 31 is the sign bit) allows token 32 * w + j:
  // on a little-endian host this is the grammar matcher's 64-bit bitset read as 32-bit words.
  // Bits past n_vocab are ignored; tokens past 32 * n_words are disallowed.
  virtual Status apply_token_mask(const Tensor& logits,  // f32 [n_rows, n_vocab], in place
                                  const Tensor& mask) = 0;  // i32 [n_rows, n_words]

  // The next token of each row, as SamplerState::sample after logit bias and penalties (those need
  // the request's history and stay on the host: draw_from_logits in sample.h): greedy when
  // temperature is 0 (argmax, the lowest id on ties), else temperature, top-k, top-p, min-p and a
  // draw from the softmax of what is left with the Philox stream `seed` at counter `step` (the same
  // uniform numbers as the host sampler). Parameters: top_k a whole number >= 0 (0: off), top_p in
  // (0, 1] (1: off), min_p in [0, 1] (0: off), temperature finite and >= 0. Seeds and steps are
  // 64-bit values split into two i32 words (bit patterns, low word first). out[r] is the token, -1
  // when no token is left (every logit NaN or -inf; greedy: any NaN), -2 when the row's parameters
  // are out of range. The caller advances a row's step after a draw (a token >= 0 with
  // temperature > 0), as SamplerState does. Rows are independent: a row's token does not depend
  // on the other rows.
  virtual Status sample(const Tensor& out,     // i32 [n_rows]
                        const Tensor& logits,  // f32 [n_rows, n_vocab], may be overwritten
                        const Tensor& params,  // f32 [n_rows, 4]: temperature, top_p, min_p, top_k
                        const Tensor& rng) = 0;  // i32 [n_rows, 4]: seed lo, seed hi, step lo, step hi
};

}  // namespace xlam
