// The model: hyperparameters and weight tensors of a llama-family decoder (llama, mistral,
// qwen2, mixtral), loaded from a Hugging Face folder into backend tensors.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "rope-freqs.h"

namespace xlam {

struct ModelFiles;  // model-files.h: the mapped safetensors shards and parsed configs

struct Hparams {
  std::string model_type;
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  int64_t n_ff = 0;
  int64_t n_ctx_train = 0;  // max_position_embeddings
  float rms_eps = 1e-6f;
  int64_t n_expert = 0;       // 0: dense MLP
  int64_t n_expert_used = 0;  // experts per token
  std::vector<int32_t> sliding_window;  // [n_layer], 0 = full attention
  RopeSpec rope;
  bool tied_embeddings = false;
  std::vector<int32_t> eos_ids;
  int32_t bos_id = -1;
};

struct LayerWeights {
  Tensor attn_norm;  // w [n_embd]
  Tensor wq;         // w [n_head * head_dim, n_embd]
  Tensor wk;         // w [n_head_kv * head_dim, n_embd]
  Tensor wv;         // w [n_head_kv * head_dim, n_embd]
  Tensor wo;         // w [n_embd, n_head * head_dim]
  Tensor bq, bk, bv, bo;  // w [rows of wq/wk/wv/wo], empty when the model has none
  Tensor ffn_norm;   // w [n_embd]
  Tensor w_gate;     // w [n_ff, n_embd] (dense)
  Tensor w_up;       // w [n_ff, n_embd] (dense)
  Tensor w_down;     // w [n_embd, n_ff] (dense)
  Tensor b_gate, b_up, b_down;  // llama mlp_bias, empty otherwise
  Tensor router;     // w [n_expert, n_embd] (MoE)
  std::vector<ExpertWeights> experts;  // [n_expert] (MoE)
};

struct WeightStats {
  int64_t n_tensors = 0;
  int64_t n_zero_copy = 0;   // read in place from the file mapping
  int64_t bytes = 0;
};

class Model {
 public:
  Model() = default;
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Opens and validates the folder, maps the weights and builds backend tensors.
  static Status load(const std::string& dir, Backend* backend, std::unique_ptr<Model>* out);

  const Hparams& hparams() const { return hp_; }
  Backend* backend() const { return backend_; }
  const WeightStats& weight_stats() const { return stats_; }

  Tensor tok_embd;     // w [n_vocab, n_embd]
  Tensor output_norm;  // w [n_embd]
  Tensor output;       // w [n_vocab, n_embd] (tok_embd itself when tied)
  Tensor inv_freq;     // f32 [head_dim / 2]
  float rope_attn_factor = 1.0f;
  std::vector<LayerWeights> layers;  // [n_layer]

 private:
  Status bind(const std::string& name, const Shape& shape, Tensor* out, bool optional);
  Status load_weights(bool attn_bias, bool o_bias, bool mlp_bias);

  Hparams hp_;
  Backend* backend_ = nullptr;
  std::unique_ptr<ModelFiles> files_;
  std::vector<Tensor> owned_;  // tensors to release (copies and inv_freq)
  WeightStats stats_;
};

}  // namespace xlam
