#include "model.h"

#include <string>

#include "model-files.h"

namespace xlam {

namespace {

std::string shape_str(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string shape_str(const Shape& shape) {
  return shape_str(std::vector<int64_t>(shape.dim, shape.dim + shape.n_dims));
}

Hparams hparams_of(const ModelFiles& files) {
  const ModelConfig& c = files.config;
  Hparams hp;
  hp.model_type = c.model_type;
  hp.n_vocab = c.vocab_size;
  hp.n_embd = c.hidden_size;
  hp.n_layer = c.num_hidden_layers;
  hp.n_head = c.num_attention_heads;
  hp.n_head_kv = c.num_key_value_heads;
  hp.head_dim = c.head_dim;
  hp.n_ff = c.intermediate_size;
  hp.n_ctx_train = c.max_position_embeddings;
  hp.rms_eps = static_cast<float>(c.rms_norm_eps);
  hp.n_expert = c.num_local_experts;
  hp.n_expert_used = c.num_experts_per_tok;
  hp.sliding_window = c.sliding_window;
  hp.sliding_window.resize(static_cast<size_t>(hp.n_layer), 0);
  hp.rope = rope_spec_of(c);
  hp.tied_embeddings = c.tie_word_embeddings;
  // generation_config.json wins over config.json, as in transformers' generate().
  const std::vector<int64_t>& eos = files.has_generation_config && !files.generation.eos_token_ids.empty()
                                        ? files.generation.eos_token_ids
                                        : c.eos_token_ids;
  for (int64_t id : eos)
    if (id >= 0 && id < hp.n_vocab) hp.eos_ids.push_back(static_cast<int32_t>(id));
  int64_t bos = files.has_generation_config && files.generation.bos_token_id >= 0 ? files.generation.bos_token_id
                                                                                 : c.bos_token_id;
  hp.bos_id = bos >= 0 && bos < hp.n_vocab ? static_cast<int32_t>(bos) : -1;
  return hp;
}

}  // namespace

Model::~Model() {
  if (!backend_) return;
  for (Tensor& t : owned_) backend_->release(&t);
}

Status Model::bind(const std::string& name, const Shape& shape, Tensor* out, bool optional) {
  const TensorRef* ref = files_->find_tensor(name);
  if (!ref) {
    if (optional) return Status::Ok();
    return Status::Error(Code::kMissingTensor, "tensor '" + name + "' is missing from the checkpoint", files_->dir, name);
  }
  const std::string file = ref->file->path();
  const std::vector<int64_t>& dims = ref->entry->shape;
  bool same = static_cast<int>(dims.size()) == shape.n_dims;
  for (int i = 0; same && i < shape.n_dims; ++i) same = dims[i] == shape.dim[i];
  if (!same)
    return Status::Error(Code::kShapeMismatch,
                         "tensor '" + name + "' has shape " + shape_str(dims) + ", expected " + shape_str(shape), file,
                         name);
  DType dtype;
  XLAM_TRY(engine_dtype(*ref->entry, file, &dtype));
  bool zero_copy = false;
  XLAM_TRY(backend_->adopt_host(ref->data, dtype, shape, out, &zero_copy));
  owned_.push_back(*out);
  stats_.n_tensors += 1;
  stats_.n_zero_copy += zero_copy ? 1 : 0;
  stats_.bytes += static_cast<int64_t>(out->nbytes());
  return Status::Ok();
}

Status Model::load_weights(bool qkv_bias, bool o_bias, bool mlp_bias) {
  const Hparams& hp = hp_;
  const int64_t d = hp.n_embd, qd = hp.n_head * hp.head_dim, kvd = hp.n_head_kv * hp.head_dim, ff = hp.n_ff;
  XLAM_TRY(bind("model.embed_tokens.weight", {hp.n_vocab, d}, &tok_embd, false));
  XLAM_TRY(bind("model.norm.weight", {d}, &output_norm, false));
  if (hp.tied_embeddings) {
    output = tok_embd;
  } else {
    XLAM_TRY(bind("lm_head.weight", {hp.n_vocab, d}, &output, false));
  }
  layers.resize(static_cast<size_t>(hp.n_layer));
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    LayerWeights& L = layers[il];
    const std::string p = "model.layers." + std::to_string(il) + ".";
    XLAM_TRY(bind(p + "input_layernorm.weight", {d}, &L.attn_norm, false));
    XLAM_TRY(bind(p + "post_attention_layernorm.weight", {d}, &L.ffn_norm, false));
    XLAM_TRY(bind(p + "self_attn.q_proj.weight", {qd, d}, &L.wq, false));
    XLAM_TRY(bind(p + "self_attn.k_proj.weight", {kvd, d}, &L.wk, false));
    XLAM_TRY(bind(p + "self_attn.v_proj.weight", {kvd, d}, &L.wv, false));
    XLAM_TRY(bind(p + "self_attn.o_proj.weight", {d, qd}, &L.wo, false));
    if (qkv_bias) {
      XLAM_TRY(bind(p + "self_attn.q_proj.bias", {qd}, &L.bq, false));
      XLAM_TRY(bind(p + "self_attn.k_proj.bias", {kvd}, &L.bk, false));
      XLAM_TRY(bind(p + "self_attn.v_proj.bias", {kvd}, &L.bv, false));
    }
    if (o_bias) XLAM_TRY(bind(p + "self_attn.o_proj.bias", {d}, &L.bo, false));
    if (hp.n_expert > 0) {
      const std::string m = p + "block_sparse_moe.";
      XLAM_TRY(bind(m + "gate.weight", {hp.n_expert, d}, &L.router, false));
      L.experts.resize(static_cast<size_t>(hp.n_expert));
      for (int64_t e = 0; e < hp.n_expert; ++e) {
        const std::string x = m + "experts." + std::to_string(e) + ".";
        XLAM_TRY(bind(x + "w1.weight", {ff, d}, &L.experts[e].w1, false));
        XLAM_TRY(bind(x + "w2.weight", {d, ff}, &L.experts[e].w2, false));
        XLAM_TRY(bind(x + "w3.weight", {ff, d}, &L.experts[e].w3, false));
      }
    } else {
      XLAM_TRY(bind(p + "mlp.gate_proj.weight", {ff, d}, &L.w_gate, false));
      XLAM_TRY(bind(p + "mlp.up_proj.weight", {ff, d}, &L.w_up, false));
      XLAM_TRY(bind(p + "mlp.down_proj.weight", {d, ff}, &L.w_down, false));
      if (mlp_bias) {
        XLAM_TRY(bind(p + "mlp.gate_proj.bias", {ff}, &L.b_gate, false));
        XLAM_TRY(bind(p + "mlp.up_proj.bias", {ff}, &L.b_up, false));
        XLAM_TRY(bind(p + "mlp.down_proj.bias", {d}, &L.b_down, false));
      }
    }
  }
  return Status::Ok();
}

Status Model::load(const std::string& dir, Backend* backend, std::unique_ptr<Model>* out) {
  std::unique_ptr<Model> m(new Model());
  m->backend_ = backend;
  m->files_ = std::make_unique<ModelFiles>();
  XLAM_TRY(open_model_files(dir, m->files_.get()));
  m->hp_ = hparams_of(*m->files_);
  const ModelConfig& c = m->files_->config;
  XLAM_TRY(m->load_weights(c.attn_qkv_bias, c.attn_o_bias, c.mlp_bias));

  std::vector<float> inv_freq;
  XLAM_TRY(compute_rope_freqs(m->hp_.rope, &inv_freq, &m->rope_attn_factor));
  XLAM_TRY(backend->alloc(DType::kF32, {static_cast<int64_t>(inv_freq.size())}, &m->inv_freq));
  m->owned_.push_back(m->inv_freq);
  XLAM_TRY(backend->upload(m->inv_freq, inv_freq.data(), inv_freq.size() * sizeof(float)));
  *out = std::move(m);
  return Status::Ok();
}

}  // namespace xlam
