// Tests for native/src/config.{h,cc}: config.json / generation_config.json per architecture,
// transformers defaults, RoPE variants and range validation (S33).
#include <cmath>
#include <string>

#include "check.h"
#include "config.h"

using xlam::Arch;
using xlam::Code;
using xlam::GenerationConfig;
using xlam::ModelConfig;
using xlam::RopeType;
using xlam::Status;

namespace {

Status parse(const std::string& text, ModelConfig* cfg) { return xlam::parse_model_config(text, "config.json", cfg); }

// Parse `text`; expect BAD_CONFIG whose message mentions `field`.
bool bad_field(const std::string& text, const std::string& field) {
  ModelConfig cfg;
  Status st = parse(text, &cfg);
  if (st.code != Code::kBadConfig) {
    std::fprintf(stderr, "  expected BAD_CONFIG for %s, got %s (%s)\n", field.c_str(), xlam::code_name(st.code),
                 st.message.c_str());
    return false;
  }
  if (st.message.find(field) == std::string::npos || st.file != "config.json") {
    std::fprintf(stderr, "  message does not name %s: %s\n", field.c_str(), st.message.c_str());
    return false;
  }
  return true;
}

bool near(double a, double b, double tol = 1e-12) { return std::fabs(a - b) <= tol * std::fmax(1.0, std::fabs(b)); }

// A small llama config; `extra` ("key":value pairs) adds fields or replaces the base ones.
std::string llama(const std::string& extra = {}) {
  const char* base[][2] = {{"model_type", "\"llama\""},       {"vocab_size", "1000"},
                           {"hidden_size", "64"},             {"intermediate_size", "128"},
                           {"num_hidden_layers", "4"},        {"num_attention_heads", "8"},
                           {"num_key_value_heads", "4"},      {"max_position_embeddings", "4096"}};
  std::string s = "{";
  for (const auto& kv : base) {
    const std::string key = std::string("\"") + kv[0] + "\":";
    if (extra.find(key) != std::string::npos) continue;  // replaced by extra
    s += (s.size() > 1 ? "," : "") + key + kv[1];
  }
  if (!extra.empty()) s += "," + extra;
  return s + "}";
}

const char* kLlama31 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu",
  "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
  "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "transformers_version": "4.43.0.dev0", "use_cache": true, "vocab_size": 128256
})";

const char* kQwen25 = R"({
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
  "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 21,
  "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24,
  "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "use_cache": true, "use_sliding_window": false, "vocab_size": 151936
})";

const char* kMistral = R"({
  "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
  "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
  "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 32000
})";

const char* kMixtral = R"({
  "architectures": ["MixtralForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1,
  "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
  "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mixtral",
  "num_attention_heads": 32, "num_experts_per_tok": 2, "num_hidden_layers": 32,
  "num_key_value_heads": 8, "num_local_experts": 8, "output_router_logits": false,
  "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "router_aux_loss_coef": 0.02,
  "sliding_window": null, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "use_cache": true, "vocab_size": 32000
})";

}  // namespace

TEST_CASE("config: llama 3.1 with llama3 rope") {
  ModelConfig c;
  Status st = parse(kLlama31, &c);
  CHECK_MSG(st.ok(), "%s", st.message.c_str());
  CHECK(c.arch == Arch::kLlama && c.model_type == "llama");
  CHECK(c.vocab_size == 128256 && c.hidden_size == 4096 && c.intermediate_size == 14336);
  CHECK(c.num_hidden_layers == 32 && c.num_attention_heads == 32 && c.num_key_value_heads == 8 && c.head_dim == 128);
  CHECK(c.max_position_embeddings == 131072 && c.rms_norm_eps == 1e-5 && c.rope_theta == 500000.0);
  CHECK(c.rope.type == RopeType::kLlama3 && c.rope.factor == 8.0 && c.rope.low_freq_factor == 1.0 &&
        c.rope.high_freq_factor == 4.0 && c.rope.original_max_position_embeddings == 8192 &&
        c.rope.attention_factor == 1.0);
  CHECK(!c.tie_word_embeddings && !c.attn_qkv_bias && !c.attn_o_bias && !c.mlp_bias);
  CHECK(c.sliding_window.size() == 32 && c.sliding_window[0] == 0 && c.sliding_window[31] == 0);
  CHECK(c.num_local_experts == 0 && c.num_experts_per_tok == 0);
  CHECK(c.bos_token_id == 128000 && c.eos_token_ids.size() == 3 && c.eos_token_ids[2] == 128009);
  CHECK(c.dtype == "bfloat16");
}

TEST_CASE("config: llama defaults and biases") {
  ModelConfig c;
  CHECK(parse(R"({"model_type":"llama"})", &c).ok());
  CHECK(c.vocab_size == 32000 && c.hidden_size == 4096 && c.intermediate_size == 11008);
  CHECK(c.num_hidden_layers == 32 && c.num_attention_heads == 32 && c.num_key_value_heads == 32);
  CHECK(c.head_dim == 128 && c.max_position_embeddings == 2048 && c.rms_norm_eps == 1e-6);
  CHECK(c.rope_theta == 10000.0 && c.rope.type == RopeType::kDefault && c.rope.attention_factor == 1.0);
  CHECK(c.bos_token_id == 1 && c.eos_token_ids.size() == 1 && c.eos_token_ids[0] == 2);
  CHECK(!c.tie_word_embeddings && c.dtype.empty());
  CHECK(parse(llama(R"("attention_bias":true,"mlp_bias":true,"tie_word_embeddings":true)"), &c).ok());
  CHECK(c.attn_qkv_bias && c.attn_o_bias && c.mlp_bias && c.tie_word_embeddings);
  // num_key_value_heads null -> heads; head_dim null -> hidden / heads; explicit head_dim honoured.
  CHECK(parse(R"({"model_type":"llama","hidden_size":64,"num_attention_heads":8,"num_key_value_heads":null,"head_dim":null})",
              &c)
            .ok());
  CHECK(c.num_key_value_heads == 8 && c.head_dim == 8);
  CHECK(parse(llama(R"("head_dim":16)"), &c).ok() && c.head_dim == 16);
  // bos/eos null -> none; eos as a list; "dtype" (v5) preferred over torch_dtype.
  CHECK(parse(llama(R"("bos_token_id":null,"eos_token_id":null,"dtype":"float16","torch_dtype":"bfloat16")"), &c).ok());
  CHECK(c.bos_token_id == -1 && c.eos_token_ids.empty() && c.dtype == "float16");
}

TEST_CASE("config: deepseek-style linear rope (legacy \"type\")") {
  ModelConfig c;
  Status st = parse(llama(R"("rope_scaling":{"factor":4.0,"type":"linear"},"rope_theta":100000)"), &c);
  CHECK_MSG(st.ok(), "%s", st.message.c_str());
  CHECK(c.rope.type == RopeType::kLinear && c.rope.factor == 4.0 && c.rope_theta == 100000.0);
  // "rope_type" wins over "type".
  CHECK(parse(llama(R"("rope_scaling":{"factor":2,"type":"yarn","rope_type":"linear"})"), &c).ok());
  CHECK(c.rope.type == RopeType::kLinear && c.rope.factor == 2.0);
  CHECK(bad_field(llama(R"("rope_scaling":{"type":"linear"})"), "factor"));
  CHECK(bad_field(llama(R"("rope_scaling":{"type":"linear","factor":null})"), "factor"));
  CHECK(bad_field(llama(R"("rope_scaling":{"type":"linear","factor":0})"), "factor"));
  // rope_scaling null or {} -> default rope.
  CHECK(parse(llama(R"("rope_scaling":null)"), &c).ok() && c.rope.type == RopeType::kDefault);
  CHECK(parse(llama(R"("rope_scaling":{})"), &c).ok() && c.rope.type == RopeType::kDefault);
  CHECK(parse(llama(R"("rope_scaling":{"rope_type":"default"})"), &c).ok() && c.rope.type == RopeType::kDefault);
}

TEST_CASE("config: rope_parameters (transformers v5)") {
  ModelConfig c;
  CHECK(parse(llama(R"("rope_parameters":{"rope_type":"default","rope_theta":500000.0})"), &c).ok());
  CHECK(c.rope.type == RopeType::kDefault && c.rope_theta == 500000.0);
  // The dict's rope_theta wins over the top-level one.
  CHECK(parse(llama(R"("rope_theta":1234,"rope_parameters":{"rope_type":"linear","factor":2,"rope_theta":777})"), &c).ok());
  CHECK(c.rope.type == RopeType::kLinear && c.rope_theta == 777.0);
  // A non-empty rope_scaling wins over rope_parameters.
  CHECK(parse(llama(R"("rope_scaling":{"type":"linear","factor":3},"rope_parameters":{"rope_type":"default"})"), &c).ok());
  CHECK(c.rope.type == RopeType::kLinear && c.rope.factor == 3.0);
  CHECK(bad_field(llama(R"("rope_parameters":{"full_attention":{"rope_type":"default"}})"), "full_attention"));
  CHECK(bad_field(llama(R"("rope_parameters":[1])"), "rope_parameters"));
}

TEST_CASE("config: llama3 rope details") {
  ModelConfig c;
  // original_max_position_embeddings: dict, top-level override, default max_position_embeddings.
  CHECK(parse(llama(R"("rope_scaling":{"rope_type":"llama3","factor":8,"low_freq_factor":1,"high_freq_factor":4})"), &c).ok());
  CHECK(c.rope.original_max_position_embeddings == 4096);
  CHECK(parse(llama(R"("original_max_position_embeddings":2048,"rope_scaling":{"rope_type":"llama3","factor":8,)"
                    R"("low_freq_factor":1,"high_freq_factor":4,"original_max_position_embeddings":1024})"),
              &c)
            .ok());
  CHECK(c.rope.original_max_position_embeddings == 2048);
  CHECK(bad_field(llama(R"("rope_scaling":{"rope_type":"llama3","factor":8,"high_freq_factor":4})"), "low_freq_factor"));
  CHECK(bad_field(llama(R"("rope_scaling":{"rope_type":"llama3","factor":8,"low_freq_factor":4,"high_freq_factor":4})"),
                  "high_freq_factor"));
  CHECK(bad_field(llama(R"("rope_scaling":{"rope_type":"llama3","low_freq_factor":1,"high_freq_factor":4})"), "factor"));
}

TEST_CASE("config: yarn rope and attention factor") {
  ModelConfig c;
  // Qwen2.5 long-context recipe.
  std::string q = kQwen25;
  q.insert(q.rfind('}'), R"(, "rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"})");
  Status st = parse(q, &c);
  CHECK_MSG(st.ok(), "%s", st.message.c_str());
  CHECK(c.rope.type == RopeType::kYarn && c.rope.factor == 4.0 && c.rope.original_max_position_embeddings == 32768);
  CHECK(c.rope.beta_fast == 32.0 && c.rope.beta_slow == 1.0 && c.rope.truncate && !c.rope.attention_factor_given);
  CHECK(near(c.rope.attention_factor, 0.1 * std::log(4.0) + 1.0));
  // factor null -> max_position_embeddings / original.
  CHECK(parse(llama(R"("rope_scaling":{"rope_type":"yarn","factor":null,"original_max_position_embeddings":1024})"), &c).ok());
  CHECK(c.rope.factor == 4.0 && near(c.rope.attention_factor, 0.1 * std::log(4.0) + 1.0));
  // mscale / mscale_all_dim (DeepSeek style).
  CHECK(parse(llama(R"("rope_scaling":{"rope_type":"yarn","factor":40,"mscale":0.707,"mscale_all_dim":1.0,)"
                    R"("original_max_position_embeddings":4096,"beta_fast":0,"beta_slow":null,"truncate":false})"),
              &c)
            .ok());
  CHECK(near(c.rope.attention_factor, (0.1 * 0.707 * std::log(40.0) + 1.0) / (0.1 * std::log(40.0) + 1.0)));
  CHECK(c.rope.beta_fast == 32.0 && c.rope.beta_slow == 1.0 && !c.rope.truncate && c.rope.mscale == 0.707);
  // Only one of mscale / mscale_all_dim -> get_mscale(factor).
  CHECK(parse(llama(R"("rope_scaling":{"rope_type":"yarn","factor":2,"mscale":0.5})"), &c).ok());
  CHECK(near(c.rope.attention_factor, 0.1 * std::log(2.0) + 1.0));
  // factor <= 1 -> attention factor 1; explicit attention_factor wins.
  CHECK(parse(llama(R"("rope_scaling":{"rope_type":"yarn","factor":1})"), &c).ok() && c.rope.attention_factor == 1.0);
  CHECK(parse(llama(R"("rope_scaling":{"rope_type":"yarn","factor":4,"attention_factor":1.5,"beta_fast":16,"beta_slow":2})"),
              &c)
            .ok());
  CHECK(c.rope.attention_factor == 1.5 && c.rope.attention_factor_given && c.rope.beta_fast == 16 && c.rope.beta_slow == 2);
  CHECK(c.rope.original_max_position_embeddings == 4096);  // defaults to max_position_embeddings
  // truncate: null is falsy in transformers.
  CHECK(parse(llama(R"("rope_scaling":{"rope_type":"yarn","factor":4,"truncate":null})"), &c).ok() && !c.rope.truncate);
  CHECK(bad_field(llama(R"("rope_scaling":{"rope_type":"yarn","original_max_position_embeddings":1024})"), "factor"));
  CHECK(bad_field(llama(R"("rope_scaling":{"rope_type":"yarn","factor":4,"truncate":"yes"})"), "truncate"));
  CHECK(bad_field(llama(R"("rope_scaling":{"rope_type":"yarn","factor":4,"attention_factor":-1})"), "attention_factor"));
}

TEST_CASE("config: unsupported rope types and partial rotary") {
  for (const char* t : {"dynamic", "longrope", "proportional", "su", "mrope"}) {
    std::string extra = std::string(R"("rope_scaling":{"type":")") + t + R"(","factor":2})";
    CHECK_MSG(bad_field(llama(extra), "rope_type"), "%s", t);
  }
  CHECK(bad_field(llama(R"("partial_rotary_factor":0.5)"), "partial_rotary_factor"));
  CHECK(bad_field(llama(R"("rope_parameters":{"rope_type":"default","partial_rotary_factor":0.25})"),
                  "partial_rotary_factor"));
  ModelConfig c;
  CHECK(parse(llama(R"("partial_rotary_factor":1.0)"), &c).ok());
}

TEST_CASE("config: qwen2 biases, tying and sliding windows") {
  ModelConfig c;
  Status st = parse(kQwen25, &c);
  CHECK_MSG(st.ok(), "%s", st.message.c_str());
  CHECK(c.arch == Arch::kQwen2 && c.head_dim == 64 && c.num_key_value_heads == 2);
  CHECK(c.attn_qkv_bias && !c.attn_o_bias && !c.mlp_bias && c.tie_word_embeddings);
  CHECK(c.rope_theta == 1e6 && c.bos_token_id == 151643 && c.eos_token_ids.size() == 1 && c.eos_token_ids[0] == 151645);
  CHECK(c.sliding_window.size() == 24);
  bool all_full = true;
  for (int32_t w : c.sliding_window) all_full = all_full && w == 0;
  CHECK(all_full);  // use_sliding_window false
  // use_sliding_window: layers >= max_window_layers slide.
  std::string q = kQwen25;
  q.replace(q.find("\"use_sliding_window\": false"), 27, "\"use_sliding_window\": true");
  CHECK(parse(q, &c).ok());
  CHECK(c.sliding_window[20] == 0 && c.sliding_window[21] == 32768 && c.sliding_window[23] == 32768);
  // Defaults: qwen2 has no bos/eos, kv heads 32, vocab 151936.
  CHECK(parse(R"({"model_type":"qwen2"})", &c).ok());
  CHECK(c.bos_token_id == -1 && c.eos_token_ids.empty() && c.num_key_value_heads == 32 && c.vocab_size == 151936 &&
        c.max_position_embeddings == 32768 && !c.tie_word_embeddings && c.intermediate_size == 22016);
  // Explicit layer_types (max_window_layers ignored); sliding_window null -> no window.
  const std::string base = R"({"model_type":"qwen2","hidden_size":64,"num_attention_heads":4,"num_key_value_heads":2,)"
                           R"("num_hidden_layers":3,"max_window_layers":0,"sliding_window":128,)";
  CHECK(parse(base + R"("use_sliding_window":true,"layer_types":["sliding_attention","full_attention","sliding_attention"]})",
              &c)
            .ok());
  CHECK(c.sliding_window[0] == 128 && c.sliding_window[1] == 0 && c.sliding_window[2] == 128);
  CHECK(parse(base + R"("use_sliding_window":false,"layer_types":["sliding_attention","full_attention","sliding_attention"]})",
              &c)
            .ok());
  CHECK(c.sliding_window[0] == 0 && c.sliding_window[2] == 0);
  CHECK(parse(base + R"("use_sliding_window":true})", &c).ok());
  CHECK(c.sliding_window[0] == 128 && c.sliding_window[1] == 128);  // max_window_layers 0
  CHECK(bad_field(base + R"("use_sliding_window":true,"layer_types":["full_attention"]})", "layer_types"));
  CHECK(bad_field(base + R"("use_sliding_window":true,"layer_types":["full_attention","x","full_attention"]})",
                  "layer_types"));
  CHECK(bad_field(base + R"("use_sliding_window":"yes"})", "use_sliding_window"));
  // Explicit head_dim may differ from hidden / heads for non-llama archs.
  CHECK(parse(R"({"model_type":"qwen2","hidden_size":60,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":32})",
              &c)
            .ok());
  CHECK(c.head_dim == 32);
}

TEST_CASE("config: mistral sliding window and defaults") {
  ModelConfig c;
  Status st = parse(kMistral, &c);
  CHECK_MSG(st.ok(), "%s", st.message.c_str());
  CHECK(c.arch == Arch::kMistral && c.sliding_window.size() == 32 && c.sliding_window[0] == 4096 &&
        c.sliding_window[31] == 4096);
  CHECK(!c.attn_qkv_bias && !c.attn_o_bias && !c.mlp_bias);
  // Absent -> 4096 (MistralConfig default); null -> full attention.
  CHECK(parse(R"({"model_type":"mistral"})", &c).ok());
  CHECK(c.sliding_window[0] == 4096 && c.num_key_value_heads == 8 && c.max_position_embeddings == 131072 &&
        c.intermediate_size == 14336 && c.rms_norm_eps == 1e-6 && c.rope_theta == 10000.0);
  CHECK(parse(R"({"model_type":"mistral","sliding_window":null})", &c).ok() && c.sliding_window[5] == 0);
  // attention_bias is ignored by MistralAttention (bias=False).
  CHECK(parse(R"({"model_type":"mistral","attention_bias":true})", &c).ok() && !c.attn_qkv_bias);
  CHECK(bad_field(R"({"model_type":"mistral","sliding_window":0})", "sliding_window"));
  CHECK(bad_field(R"({"model_type":"mistral","sliding_window":-5})", "sliding_window"));
  CHECK(bad_field(R"({"model_type":"mistral","sliding_window":4096.5})", "sliding_window"));
}

TEST_CASE("config: mixtral experts") {
  ModelConfig c;
  Status st = parse(kMixtral, &c);
  CHECK_MSG(st.ok(), "%s", st.message.c_str());
  CHECK(c.arch == Arch::kMixtral && c.num_local_experts == 8 && c.num_experts_per_tok == 2);
  CHECK(c.sliding_window[0] == 0 && c.rope_theta == 1e6);
  CHECK(parse(R"({"model_type":"mixtral"})", &c).ok());
  CHECK(c.num_local_experts == 8 && c.num_experts_per_tok == 2 && c.rope_theta == 1e6 && c.rms_norm_eps == 1e-5 &&
        c.sliding_window[0] == 0 && c.num_key_value_heads == 8);
  CHECK(parse(R"({"model_type":"mixtral","num_experts":4,"num_experts_per_tok":4})", &c).ok());
  CHECK(c.num_local_experts == 4 && c.num_experts_per_tok == 4);
  CHECK(bad_field(R"({"model_type":"mixtral","num_local_experts":4,"num_experts_per_tok":5})", "num_experts_per_tok"));
  CHECK(bad_field(R"({"model_type":"mixtral","num_experts_per_tok":0})", "num_experts_per_tok"));
  CHECK(bad_field(R"({"model_type":"mixtral","num_local_experts":0})", "num_local_experts"));
  CHECK(bad_field(R"({"model_type":"mixtral","num_local_experts":100000})", "num_local_experts"));
}

TEST_CASE("config: model_type and JSON errors") {
  ModelConfig c;
  CHECK(parse(R"({"model_type":"gpt2"})", &c).code == Code::kUnknownModelType);
  CHECK(parse(R"({"model_type":"Llama"})", &c).code == Code::kUnknownModelType);
  CHECK(parse(R"({"hidden_size":8})", &c).code == Code::kUnknownModelType);
  CHECK(parse(R"({"model_type":null})", &c).code == Code::kUnknownModelType);
  CHECK(parse(R"({"model_type":5})", &c).code == Code::kBadConfig);
  CHECK(parse("", &c).code == Code::kBadConfig);
  CHECK(parse("{", &c).code == Code::kBadConfig);
  CHECK(parse("[]", &c).code == Code::kBadConfig);
  CHECK(parse(R"({"model_type":"llama","rope_theta":NaN})", &c).code == Code::kBadConfig);
  CHECK(parse(R"({"model_type":"llama","hidden_size":64,"hidden_size":128})", &c).code == Code::kBadConfig);
  CHECK(parse("{\"model_type\":\"llama\",\"x\":\"\xff\"}", &c).code == Code::kBadConfig);
}

TEST_CASE("config S33: hparams out of range -> BAD_CONFIG naming the field") {
  CHECK(bad_field(llama(R"("num_hidden_layers":513)"), "num_hidden_layers"));
  CHECK(bad_field(llama(R"("num_hidden_layers":0)"), "num_hidden_layers"));
  CHECK(bad_field(llama(R"("num_attention_heads":0)"), "num_attention_heads"));
  CHECK(bad_field(llama(R"("num_key_value_heads":3)"), "num_key_value_heads"));   // does not divide 8
  CHECK(bad_field(llama(R"("num_key_value_heads":16)"), "num_key_value_heads"));  // more than heads
  CHECK(bad_field(llama(R"("num_key_value_heads":0)"), "num_key_value_heads"));
  CHECK(bad_field(llama(R"("num_attention_heads":7,"num_key_value_heads":7)"), "hidden_size"));  // 64 % 7
  CHECK(bad_field(llama(R"("head_dim":16,"num_attention_heads":6,"num_key_value_heads":6)"), "hidden_size"));
  CHECK(bad_field(llama(R"("head_dim":0)"), "head_dim"));
  CHECK(bad_field(llama(R"("head_dim":7)"), "head_dim"));  // odd
  CHECK(bad_field(llama(R"("head_dim":1048576)"), "head_dim"));  // heads * head_dim too large
  CHECK(bad_field(llama(R"("hidden_size":0)"), "hidden_size"));
  CHECK(bad_field(llama(R"("hidden_size":-64)"), "hidden_size"));
  CHECK(bad_field(llama(R"("hidden_size":2097152)"), "hidden_size"));
  CHECK(bad_field(llama(R"("hidden_size":64.0)"), "hidden_size"));
  CHECK(bad_field(llama(R"("hidden_size":"64")"), "hidden_size"));
  CHECK(bad_field(llama(R"("hidden_size":null)"), "hidden_size"));
  CHECK(bad_field(llama(R"("hidden_size":99999999999999999999999)"), "hidden_size"));
  CHECK(bad_field(llama(R"("intermediate_size":0)"), "intermediate_size"));
  CHECK(bad_field(llama(R"("vocab_size":0)"), "vocab_size"));
  CHECK(bad_field(llama(R"("vocab_size":2147483649)"), "vocab_size"));
  CHECK(bad_field(llama(R"("max_position_embeddings":1099511627776)"), "max_position_embeddings"));
  CHECK(bad_field(llama(R"("max_position_embeddings":0)"), "max_position_embeddings"));
  CHECK(bad_field(llama(R"("rms_norm_eps":0)"), "rms_norm_eps"));
  CHECK(bad_field(llama(R"("rms_norm_eps":-1e-6)"), "rms_norm_eps"));
  CHECK(bad_field(llama(R"("rms_norm_eps":"1e-6")"), "rms_norm_eps"));
  CHECK(bad_field(llama(R"("rope_theta":0)"), "rope_theta"));
  CHECK(bad_field(llama(R"("rope_theta":-10000)"), "rope_theta"));
  CHECK(bad_field(llama(R"("rope_theta":1,"rope_scaling":{"rope_type":"yarn","factor":2})"), "rope_theta"));
  CHECK(bad_field(llama(R"("hidden_act":"gelu")"), "hidden_act"));
  CHECK(bad_field(llama(R"("tie_word_embeddings":1)"), "tie_word_embeddings"));
  CHECK(bad_field(llama(R"("attention_bias":"false")"), "attention_bias"));
  CHECK(bad_field(llama(R"("eos_token_id":-1)"), "eos_token_id"));
  CHECK(bad_field(llama(R"("eos_token_id":[1,"2"])"), "eos_token_id"));
  CHECK(bad_field(llama(R"("eos_token_id":2147483648)"), "eos_token_id"));
  CHECK(bad_field(llama(R"("bos_token_id":1.5)"), "bos_token_id"));
  CHECK(bad_field(llama(R"("torch_dtype":16)"), "torch_dtype"));
  ModelConfig c;
  CHECK(parse(llama(R"("vocab_size":2147483648)"), &c).ok());  // exactly 2^31
  CHECK(parse(llama(R"("head_dim":2,"num_key_value_heads":8)"), &c).ok());
}

TEST_CASE("generation config") {
  GenerationConfig g;
  CHECK(xlam::parse_generation_config(R"({"bos_token_id":128000,"eos_token_id":[128001,128009],"temperature":0.6})",
                                      "generation_config.json", &g)
            .ok());
  CHECK(g.bos_token_id == 128000 && g.eos_token_ids.size() == 2 && g.eos_token_ids[1] == 128009);
  CHECK(xlam::parse_generation_config(R"({"eos_token_id":7})", "g", &g).ok());
  CHECK(g.bos_token_id == -1 && g.eos_token_ids.size() == 1 && g.eos_token_ids[0] == 7);
  CHECK(xlam::parse_generation_config(R"({})", "g", &g).ok() && g.eos_token_ids.empty() && g.bos_token_id == -1);
  CHECK(xlam::parse_generation_config(R"({"eos_token_id":null,"bos_token_id":null})", "g", &g).ok());
  Status st = xlam::parse_generation_config(R"({"eos_token_id":"x"})", "generation_config.json", &g);
  CHECK(st.code == Code::kBadConfig && st.file == "generation_config.json" &&
        st.message.find("eos_token_id") != std::string::npos);
  CHECK(xlam::parse_generation_config("not json", "g", &g).code == Code::kBadConfig);
  CHECK(xlam::parse_generation_config("[1]", "g", &g).code == Code::kBadConfig);
}
