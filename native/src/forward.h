// One forward pass of the model over a batch of tokens from one or more sequences, reading and
// writing the paged KV cache, producing logits for chosen rows.
#pragma once
#include <cstdint>
#include <vector>

#include "kv-cache.h"
#include "model-runner.h"
#include "model.h"

namespace xlam {

struct ForwardBatch {
  std::vector<int32_t> tokens;        // [n_tokens]
  std::vector<int32_t> positions;     // [n_tokens]
  std::vector<int32_t> token_seq;     // [n_tokens], index into the block tables
  std::vector<int32_t> slots;         // [n_tokens], cache slot of each token (negative: padding)
  std::vector<int32_t> block_tables;  // [n_seqs, max_blocks], -1 past a sequence's blocks
  int64_t n_seqs = 0;
  int64_t max_blocks = 0;
  std::vector<int32_t> logit_rows;    // [n_out], token rows whose logits are wanted (may be empty)
};

class Forward final : public ModelRunner {
 public:
  Forward(const Model* model, KvCache* cache) : model_(model), cache_(cache) {}
  ~Forward() override;
  Forward(const Forward&) = delete;
  Forward& operator=(const Forward&) = delete;

  int64_t n_vocab() const override { return model_->hparams().n_vocab; }
  // logits: f32 [n_out, n_vocab], row-major on the host.
  Status run(const ForwardBatch& batch, std::vector<float>* logits) override;

 private:
  struct Scratch {
    int64_t n_tokens = 0, n_out = 0, n_seqs = 0, max_blocks = 0;
    Tensor ids, positions, token_seq, slots;  // i32 [n_tokens]
    Tensor block_tables;                      // i32 [n_seqs, max_blocks]
    Tensor logit_rows;                        // i32 [n_out]
    Tensor x;      // f32 [n_tokens, n_embd], the residual stream
    Tensor cur;    // f32 [n_tokens, n_embd]
    Tensor q;      // f32 [n_tokens, n_head * head_dim]
    Tensor k, v;   // f32 [n_tokens, n_head_kv * head_dim]
    Tensor attn;   // f32 [n_tokens, n_head * head_dim]
    Tensor proj;   // f32 [n_tokens, n_embd]
    Tensor gate, up, act;  // f32 [n_tokens, n_ff]
    Tensor router_logits;  // f32 [n_tokens, n_expert]
    Tensor expert_ids;     // i32 [n_tokens, n_expert_used]
    Tensor expert_weights; // f32 [n_tokens, n_expert_used]
    Tensor rows;   // f32 [n_out, n_embd]
    Tensor logits; // f32 [n_out, n_vocab]
  };

  Status prepare(const ForwardBatch& batch);
  void release_scratch();
  Status layer(int64_t il, const Tensor& next_norm);

  const Model* model_;
  KvCache* cache_;
  Scratch s_;
  std::vector<Tensor*> allocated_;
};

}  // namespace xlam
