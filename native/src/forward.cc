#include "forward.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace xlam {

namespace {
// A view of the first rows of a tensor, reshaped; shares its memory.
Tensor view(const Tensor& t, const Shape& shape) {
  Tensor v = t;
  v.shape = shape;
  return v;
}
}  // namespace

Forward::~Forward() { release_scratch(); }

void Forward::release_scratch() {
  Backend* be = model_->backend();
  for (Tensor* t : allocated_) be->release(t);
  allocated_.clear();
  s_ = Scratch{};
}

Status Forward::prepare(const ForwardBatch& b) {
  const Hparams& hp = model_->hparams();
  const int64_t n = static_cast<int64_t>(b.tokens.size()), n_out = static_cast<int64_t>(b.logit_rows.size());
  if (n == 0) return Status::Error(Code::kInvalidArgument, "forward: empty batch");
  if (static_cast<int64_t>(b.positions.size()) != n || static_cast<int64_t>(b.token_seq.size()) != n ||
      static_cast<int64_t>(b.slots.size()) != n || b.n_seqs <= 0 || b.max_blocks <= 0 ||
      static_cast<int64_t>(b.block_tables.size()) != b.n_seqs * b.max_blocks)
    return Status::Error(Code::kInvalidArgument, "forward: inconsistent batch");
  // Reallocate only when the batch outgrows the scratch space.
  if (n > s_.n_tokens || n_out > s_.n_out || b.n_seqs * b.max_blocks > s_.n_seqs * s_.max_blocks) {
    const int64_t cap = std::max(n, s_.n_tokens), cap_out = std::max<int64_t>({n_out, s_.n_out, 1});
    const int64_t cap_tables = std::max(b.n_seqs * b.max_blocks, s_.n_seqs * s_.max_blocks);
    release_scratch();
    Backend* be = model_->backend();
    auto mk = [&](Tensor* t, DType dt, const Shape& sh) -> Status {
      XLAM_TRY(be->alloc(dt, sh, t));
      allocated_.push_back(t);
      return Status::Ok();
    };
    const int64_t qd = hp.n_head * hp.head_dim, kvd = hp.n_head_kv * hp.head_dim;
    XLAM_TRY(mk(&s_.ids, DType::kI32, {cap}));
    XLAM_TRY(mk(&s_.positions, DType::kI32, {cap}));
    XLAM_TRY(mk(&s_.token_seq, DType::kI32, {cap}));
    XLAM_TRY(mk(&s_.slots, DType::kI32, {cap}));
    XLAM_TRY(mk(&s_.block_tables, DType::kI32, {cap_tables}));
    XLAM_TRY(mk(&s_.logit_rows, DType::kI32, {cap_out}));
    XLAM_TRY(mk(&s_.x, DType::kF32, {cap, hp.n_embd}));
    XLAM_TRY(mk(&s_.cur, DType::kF32, {cap, hp.n_embd}));
    XLAM_TRY(mk(&s_.q, DType::kF32, {cap, qd}));
    XLAM_TRY(mk(&s_.k, DType::kF32, {cap, kvd}));
    XLAM_TRY(mk(&s_.v, DType::kF32, {cap, kvd}));
    XLAM_TRY(mk(&s_.attn, DType::kF32, {cap, qd}));
    XLAM_TRY(mk(&s_.proj, DType::kF32, {cap, hp.n_embd}));
    if (hp.n_expert > 0) {
      XLAM_TRY(mk(&s_.router_logits, DType::kF32, {cap, hp.n_expert}));
      XLAM_TRY(mk(&s_.expert_ids, DType::kI32, {cap, hp.n_expert_used}));
      XLAM_TRY(mk(&s_.expert_weights, DType::kF32, {cap, hp.n_expert_used}));
    } else {
      XLAM_TRY(mk(&s_.gate, DType::kF32, {cap, hp.n_ff}));
      XLAM_TRY(mk(&s_.up, DType::kF32, {cap, hp.n_ff}));
      XLAM_TRY(mk(&s_.act, DType::kF32, {cap, hp.n_ff}));
    }
    XLAM_TRY(mk(&s_.rows, DType::kF32, {cap_out, hp.n_embd}));
    XLAM_TRY(mk(&s_.logits, DType::kF32, {cap_out, hp.n_vocab}));
    s_.n_tokens = cap;
    s_.n_out = cap_out;
    s_.n_seqs = 1;
    s_.max_blocks = cap_tables;
  }
  return Status::Ok();
}

Status Forward::layer(int64_t il, const Tensor& next_norm) {
  const Hparams& hp = model_->hparams();
  const LayerWeights& L = model_->layers[il];
  Backend* be = model_->backend();
  const int64_t n = s_.ids.shape[0];
  const Tensor cur = view(s_.cur, {n, hp.n_embd});
  const Tensor x = view(s_.x, {n, hp.n_embd});
  const Tensor q = view(s_.q, {n, hp.n_head * hp.head_dim});
  const Tensor k = view(s_.k, {n, hp.n_head_kv * hp.head_dim});
  const Tensor v = view(s_.v, {n, hp.n_head_kv * hp.head_dim});
  const Tensor attn = view(s_.attn, {n, hp.n_head * hp.head_dim});
  const Tensor proj = view(s_.proj, {n, hp.n_embd});
  auto bias = [](const Tensor& b) { return b.empty() ? nullptr : &b; };

  // Attention block.
  XLAM_TRY(be->matmul(q, cur, L.wq, bias(L.bq)));
  XLAM_TRY(be->matmul(k, cur, L.wk, bias(L.bk)));
  XLAM_TRY(be->matmul(v, cur, L.wv, bias(L.bv)));
  const Tensor q3 = view(q, {n, hp.n_head, hp.head_dim});
  const Tensor k3 = view(k, {n, hp.n_head_kv, hp.head_dim});
  const Tensor v3 = view(v, {n, hp.n_head_kv, hp.head_dim});
  XLAM_TRY(be->rope(q3, s_.positions, model_->inv_freq, model_->rope_attn_factor));
  XLAM_TRY(be->rope(k3, s_.positions, model_->inv_freq, model_->rope_attn_factor));
  XLAM_TRY(be->kv_write(cache_->k(il), cache_->v(il), k3, v3, s_.slots));
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hp.head_dim)));
  XLAM_TRY(be->attention(view(attn, {n, hp.n_head, hp.head_dim}), q3, cache_->k(il), cache_->v(il),
                         s_.block_tables, s_.token_seq, s_.positions, scale, hp.sliding_window[il]));
  XLAM_TRY(be->matmul(proj, attn, L.wo, bias(L.bo)));
  XLAM_TRY(be->add_rms_norm(cur, x, proj, L.ffn_norm, hp.rms_eps));

  // MLP block.
  if (hp.n_expert > 0) {
    const Tensor rl = view(s_.router_logits, {n, hp.n_expert});
    const Tensor ids = view(s_.expert_ids, {n, hp.n_expert_used});
    const Tensor wts = view(s_.expert_weights, {n, hp.n_expert_used});
    XLAM_TRY(be->matmul(rl, cur, L.router, nullptr));
    XLAM_TRY(be->moe_route(ids, wts, rl));
    XLAM_TRY(be->moe_experts(proj, cur, ids, wts, L.experts.data(), static_cast<int32_t>(L.experts.size())));
  } else {
    const Tensor gate = view(s_.gate, {n, hp.n_ff});
    const Tensor up = view(s_.up, {n, hp.n_ff});
    const Tensor act = view(s_.act, {n, hp.n_ff});
    XLAM_TRY(be->matmul(gate, cur, L.w_gate, bias(L.b_gate)));
    XLAM_TRY(be->matmul(up, cur, L.w_up, bias(L.b_up)));
    XLAM_TRY(be->silu_mul(act, gate, up));
    XLAM_TRY(be->matmul(proj, act, L.w_down, bias(L.b_down)));
  }
  // Residual add fused with the next layer's input norm (or the final norm).
  return be->add_rms_norm(cur, x, proj, next_norm, hp.rms_eps);
}

Status Forward::run(const ForwardBatch& b, std::vector<float>* logits) {
  XLAM_TRY(prepare(b));
  const Hparams& hp = model_->hparams();
  Backend* be = model_->backend();
  const int64_t n = static_cast<int64_t>(b.tokens.size()), n_out = static_cast<int64_t>(b.logit_rows.size());
  for (int32_t r : b.logit_rows)
    if (r < 0 || r >= n) return Status::Error(Code::kInvalidArgument, "forward: logit row out of range");
  // Inputs: views sized to this batch.
  s_.ids.shape = {n};
  s_.positions.shape = {n};
  s_.token_seq.shape = {n};
  s_.slots.shape = {n};
  s_.logit_rows.shape = {n_out};
  s_.block_tables.shape = {b.n_seqs, b.max_blocks};
  XLAM_TRY(be->upload(s_.ids, b.tokens.data(), n * 4));
  XLAM_TRY(be->upload(s_.positions, b.positions.data(), n * 4));
  XLAM_TRY(be->upload(s_.token_seq, b.token_seq.data(), n * 4));
  XLAM_TRY(be->upload(s_.slots, b.slots.data(), n * 4));
  XLAM_TRY(be->upload(s_.block_tables, b.block_tables.data(), b.block_tables.size() * 4));
  if (n_out > 0) XLAM_TRY(be->upload(s_.logit_rows, b.logit_rows.data(), n_out * 4));

  const Tensor x = view(s_.x, {n, hp.n_embd});
  const Tensor cur = view(s_.cur, {n, hp.n_embd});
  XLAM_TRY(be->embedding(x, model_->tok_embd, s_.ids));
  XLAM_TRY(be->rms_norm(cur, x, model_->layers[0].attn_norm, hp.rms_eps));
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const Tensor& next_norm = il + 1 < hp.n_layer ? model_->layers[il + 1].attn_norm : model_->output_norm;
    XLAM_TRY(layer(il, next_norm));
  }
  logits->clear();
  if (n_out == 0) return Status::Ok();  // prefill chunks only: the KV is written, no logits wanted
  const Tensor rows = view(s_.rows, {n_out, hp.n_embd});
  const Tensor out = view(s_.logits, {n_out, hp.n_vocab});
  XLAM_TRY(be->get_rows(rows, cur, s_.logit_rows));
  XLAM_TRY(be->matmul(out, rows, model_->output, nullptr));
  logits->resize(static_cast<size_t>(n_out * hp.n_vocab));
  return be->download(logits->data(), out, logits->size() * 4);
}

}  // namespace xlam
