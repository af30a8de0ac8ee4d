#include <string>

#include "op-checks.h"
#include "sample-math.h"

namespace xlam {

Status expect(bool cond, const char* op, const char* what) {
  if (cond) return Status::Ok();
  return Status::Error(Code::kInvalidArgument, std::string(op) + ": " + what);
}

namespace {
Status expect_kind(const Tensor& t, int n_dims, bool dtype_ok, const char* op, const char* what,
                   const char* kind) {
  if (t.empty()) return Status::Error(Code::kInvalidArgument, std::string(op) + ": " + what + " is empty");
  if (!dtype_ok)
    return Status::Error(Code::kInvalidArgument,
                         std::string(op) + ": " + what + " must be " + kind + ", got " + dtype_name(t.dtype));
  if (t.shape.n_dims != n_dims)
    return Status::Error(Code::kInvalidArgument, std::string(op) + ": " + what + " must have " +
                                                     std::to_string(n_dims) + " dims, got " +
                                                     std::to_string(t.shape.n_dims));
  return Status::Ok();
}
}  // namespace

Status expect_f32(const Tensor& t, int n_dims, const char* op, const char* what) {
  return expect_kind(t, n_dims, t.dtype == DType::kF32, op, what, "f32");
}
Status expect_i32(const Tensor& t, int n_dims, const char* op, const char* what) {
  return expect_kind(t, n_dims, t.dtype == DType::kI32, op, what, "i32");
}
Status expect_weight(const Tensor& t, int n_dims, const char* op, const char* what) {
  return expect_kind(t, n_dims, is_weight_dtype(t.dtype), op, what, "f32, f16 or bf16");
}

Status check_attention(const Tensor& out, const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                       const Tensor& block_tables, const Tensor& token_seq, const Tensor& positions) {
  const char* op = "attention";
  XLAM_TRY(expect_f32(out, 3, op, "out"));
  XLAM_TRY(expect_f32(q, 3, op, "q"));
  XLAM_TRY(expect_f32(k_cache, 4, op, "k_cache"));
  XLAM_TRY(expect_f32(v_cache, 4, op, "v_cache"));
  XLAM_TRY(expect_i32(block_tables, 2, op, "block_tables"));
  XLAM_TRY(expect_i32(token_seq, 1, op, "token_seq"));
  XLAM_TRY(expect_i32(positions, 1, op, "positions"));
  const int64_t n_tokens = q.shape[0], n_heads = q.shape[1], head_dim = q.shape[2], n_kv_heads = k_cache.shape[2];
  XLAM_TRY(expect(out.shape == q.shape && k_cache.shape == v_cache.shape, op, "shapes must match"));
  XLAM_TRY(expect(k_cache.shape[3] == head_dim, op, "cache head_dim must match q"));
  XLAM_TRY(expect(n_kv_heads > 0 && n_heads % n_kv_heads == 0, op, "n_heads must be a multiple of n_kv_heads"));
  return expect(token_seq.shape[0] == n_tokens && positions.shape[0] == n_tokens, op,
                "token_seq and positions must be [n_tokens]");
}

Status check_kv_write(const Tensor& k_cache, const Tensor& v_cache, const Tensor& k, const Tensor& v,
                      const Tensor& slot_mapping) {
  const char* op = "kv_write";
  XLAM_TRY(expect_f32(k_cache, 4, op, "k_cache"));
  XLAM_TRY(expect_f32(v_cache, 4, op, "v_cache"));
  XLAM_TRY(expect_f32(k, 3, op, "k"));
  XLAM_TRY(expect_f32(v, 3, op, "v"));
  XLAM_TRY(expect_i32(slot_mapping, 1, op, "slot_mapping"));
  XLAM_TRY(expect(k_cache.shape == v_cache.shape && k.shape == v.shape, op, "k/v shapes must match"));
  XLAM_TRY(expect(k.shape[1] == k_cache.shape[2] && k.shape[2] == k_cache.shape[3], op,
                  "k must be [n_tokens, n_kv_heads, head_dim] of the cache"));
  return expect(slot_mapping.shape[0] == k.shape[0], op, "slot_mapping must be [n_tokens]");
}

Status check_copy_blocks(const Tensor& k_cache, const Tensor& v_cache, const Tensor& block_pairs) {
  const char* op = "copy_blocks";
  XLAM_TRY(expect_f32(k_cache, 4, op, "k_cache"));
  XLAM_TRY(expect_f32(v_cache, 4, op, "v_cache"));
  XLAM_TRY(expect_i32(block_pairs, 2, op, "block_pairs"));
  XLAM_TRY(expect(k_cache.shape == v_cache.shape, op, "k/v shapes must match"));
  return expect(block_pairs.shape[1] == 2, op, "block_pairs must be [n_pairs, 2]");
}

Status check_matmul(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor* bias) {
  const char* op = "matmul";
  XLAM_TRY(expect_f32(out, 2, op, "out"));
  XLAM_TRY(expect_f32(x, 2, op, "x"));
  XLAM_TRY(expect_weight(w, 2, op, "w"));
  XLAM_TRY(expect(x.shape[1] == w.shape[1], op, "x and w must share n_in"));
  XLAM_TRY(expect(out.shape[0] == x.shape[0] && out.shape[1] == w.shape[0], op, "out must be [n_tokens, n_out]"));
  if (bias) {
    XLAM_TRY(expect_weight(*bias, 1, op, "bias"));
    XLAM_TRY(expect(bias->shape[0] == w.shape[0], op, "bias must be [n_out]"));
  }
  return Status::Ok();
}

namespace {
Status check_norm(const char* op, const Tensor& out, const Tensor& x, const Tensor& w) {
  XLAM_TRY(expect_f32(out, 2, op, "out"));
  XLAM_TRY(expect_f32(x, 2, op, "x"));
  XLAM_TRY(expect_weight(w, 1, op, "weight"));
  return expect(out.shape == x.shape && w.shape[0] == x.shape[1], op, "shapes must be [n, d], [n, d], [d]");
}
}  // namespace

Status check_rms_norm(const Tensor& out, const Tensor& x, const Tensor& weight) {
  return check_norm("rms_norm", out, x, weight);
}

Status check_add_rms_norm(const Tensor& out, const Tensor& residual, const Tensor& delta, const Tensor& weight) {
  const char* op = "add_rms_norm";
  XLAM_TRY(check_norm(op, out, residual, weight));
  XLAM_TRY(expect_f32(delta, 2, op, "delta"));
  return expect(delta.shape == residual.shape, op, "delta must match residual");
}

Status check_rope(const Tensor& x, const Tensor& positions, const Tensor& inv_freq) {
  const char* op = "rope";
  XLAM_TRY(expect_f32(x, 3, op, "x"));
  XLAM_TRY(expect_i32(positions, 1, op, "positions"));
  XLAM_TRY(expect_f32(inv_freq, 1, op, "inv_freq"));
  const int64_t n = x.shape[0], hd = x.shape[2];
  XLAM_TRY(expect(hd % 2 == 0 && inv_freq.shape[0] == hd / 2, op, "inv_freq must be [head_dim / 2]"));
  return expect(positions.shape[0] == n, op, "positions must be [n_tokens]");
}

Status check_silu_mul(const Tensor& out, const Tensor& gate, const Tensor& up) {
  const char* op = "silu_mul";
  XLAM_TRY(expect_f32(out, 2, op, "out"));
  XLAM_TRY(expect_f32(gate, 2, op, "gate"));
  XLAM_TRY(expect_f32(up, 2, op, "up"));
  return expect(gate.shape == out.shape && up.shape == out.shape, op, "shapes must match");
}

Status check_embedding(const Tensor& out, const Tensor& table, const Tensor& ids) {
  const char* op = "embedding";
  XLAM_TRY(expect_f32(out, 2, op, "out"));
  XLAM_TRY(expect_weight(table, 2, op, "table"));
  XLAM_TRY(expect_i32(ids, 1, op, "ids"));
  return expect(out.shape[0] == ids.shape[0] && out.shape[1] == table.shape[1], op, "out must be [n_tokens, n_embd]");
}

Status check_get_rows(const Tensor& out, const Tensor& x, const Tensor& rows) {
  const char* op = "get_rows";
  XLAM_TRY(expect_f32(out, 2, op, "out"));
  XLAM_TRY(expect_f32(x, 2, op, "x"));
  XLAM_TRY(expect_i32(rows, 1, op, "rows"));
  return expect(out.shape[0] == rows.shape[0] && out.shape[1] == x.shape[1], op, "out must be [n_rows, n]");
}

Status check_moe_route(const Tensor& expert_ids, const Tensor& expert_weights, const Tensor& logits) {
  const char* op = "moe_route";
  XLAM_TRY(expect_i32(expert_ids, 2, op, "expert_ids"));
  XLAM_TRY(expect_f32(expert_weights, 2, op, "expert_weights"));
  XLAM_TRY(expect_f32(logits, 2, op, "logits"));
  const int64_t n = logits.shape[0], n_exp = logits.shape[1], k = expert_ids.shape[1];
  XLAM_TRY(expect(expert_ids.shape == expert_weights.shape && expert_ids.shape[0] == n, op,
                  "ids and weights must be [n_tokens, k]"));
  return expect(k >= 1 && k <= n_exp, op, "k must be in 1..n_experts");
}

Status check_moe_experts(const Tensor& out, const Tensor& x, const Tensor& expert_ids, const Tensor& expert_weights) {
  const char* op = "moe_experts";
  XLAM_TRY(expect_f32(out, 2, op, "out"));
  XLAM_TRY(expect_f32(x, 2, op, "x"));
  XLAM_TRY(expect_i32(expert_ids, 2, op, "expert_ids"));
  XLAM_TRY(expect_f32(expert_weights, 2, op, "expert_weights"));
  XLAM_TRY(expect(out.shape == x.shape, op, "out must match x"));
  return expect(expert_ids.shape == expert_weights.shape && expert_ids.shape[0] == x.shape[0], op,
                "ids and weights must be [n_tokens, k]");
}

Status check_moe_expert(const ExpertWeights& ew, int64_t n_embd) {
  const char* op = "moe_experts";
  XLAM_TRY(expect_weight(ew.w1, 2, op, "w1"));
  XLAM_TRY(expect_weight(ew.w3, 2, op, "w3"));
  XLAM_TRY(expect_weight(ew.w2, 2, op, "w2"));
  return expect(ew.w1.shape[1] == n_embd && ew.w3.shape == ew.w1.shape && ew.w2.shape[0] == n_embd &&
                    ew.w2.shape[1] == ew.w1.shape[0],
                op, "expert weights must be w1/w3 [n_ff, n_embd], w2 [n_embd, n_ff]");
}

Status check_apply_token_mask(const Tensor& logits, const Tensor& mask) {
  const char* op = "apply_token_mask";
  XLAM_TRY(expect_f32(logits, 2, op, "logits"));
  XLAM_TRY(expect_i32(mask, 2, op, "mask"));
  return expect(mask.shape[0] == logits.shape[0], op, "mask must be [n_rows, n_words]");
}

Status check_sample(const Tensor& out, const Tensor& logits, const Tensor& params, const Tensor& rng) {
  const char* op = "sample";
  XLAM_TRY(expect_i32(out, 1, op, "out"));
  XLAM_TRY(expect_f32(logits, 2, op, "logits"));
  XLAM_TRY(expect_f32(params, 2, op, "params"));
  XLAM_TRY(expect_i32(rng, 2, op, "rng"));
  const int64_t n_rows = logits.shape[0], n_vocab = logits.shape[1];
  XLAM_TRY(expect(out.shape[0] == n_rows, op, "out must be [n_rows]"));
  XLAM_TRY(expect(params.shape[0] == n_rows && params.shape[1] == 4, op, "params must be [n_rows, 4]"));
  XLAM_TRY(expect(rng.shape[0] == n_rows && rng.shape[1] == 4, op, "rng must be [n_rows, 4]"));
  return expect(n_vocab <= kMaxSampleVocab, op, "n_vocab must be at most 2^30");
}

}  // namespace xlam
