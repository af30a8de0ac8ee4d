// config: Hugging Face config.json / generation_config.json for the architectures the engine
// runs (model_type llama, mistral, qwen2, mixtral), with transformers' defaults (v5.18 sources:
// models/*/configuration_*.py, modeling_*.py, modeling_rope_utils.py) and range validation.
//
// Defaults applied when a key is absent:
//   field                    llama    mistral  qwen2    mixtral
//   vocab_size               32000    32000    151936   32000
//   hidden_size              4096     4096     4096     4096
//   intermediate_size        11008    14336    22016    14336
//   num_hidden_layers        32       32       32       32
//   num_attention_heads      32       32       32       32
//   num_key_value_heads      =heads   8        32       8      (null -> = heads everywhere)
//   max_position_embeddings  2048     131072   32768    131072
//   rms_norm_eps             1e-6     1e-6     1e-6     1e-5
//   rope_theta               10000    10000    10000    1e6
//   bos_token_id             1        1        none     1
//   eos_token_id             2        2        none     2
//   sliding_window           -        4096     4096*    none   (*only with use_sliding_window)
//   tie_word_embeddings      false for all (the small Qwen2 checkpoints set it true)
//   head_dim                 hidden_size / num_attention_heads unless present and non-null
//   hidden_act               "silu" (anything else is rejected: the engine only has SwiGLU)
//
// Biases (nn.Linear bias=...):
//   llama:   q,k,v,o_proj bias iff attention_bias; gate/up/down_proj bias iff mlp_bias.
//   qwen2:   q,k,v_proj always have a bias, o_proj never; no MLP bias.
//   mistral, mixtral: no biases (the modeling code hardcodes bias=False).
//
// Sliding window (attention of position p covers max(0, p - w + 1) ..= p; 0 = full):
//   llama: never. mistral/mixtral: every layer uses config.sliding_window when it is non-null
//   (mistral's default when the key is absent is 4096, mixtral's is null; a layer_types list is
//   ignored by transformers for these two and here too).
//   qwen2: sliding_window counts only if use_sliding_window is true; then layer i slides iff
//   layer_types[i] == "sliding_attention" when layer_types is given, else iff
//   i >= max_window_layers (default 28).
//
// RoPE. The rope dict is read from "rope_scaling" (legacy; wins when it is a non-empty object,
// as in transformers) or else "rope_parameters" (transformers v5). Its type is "rope_type", or
// legacy "type", default "default". rope_theta: the dict's "rope_theta" if present, else the
// top-level "rope_theta", else the default above. "partial_rotary_factor" other than 1 is
// rejected. Supported types and exactly what each field does (d = head_dim, i = 0 .. d/2-1,
// base = rope_theta; transformers computes inv_freq in float32, scalars in float64):
//   default: inv_freq[i] = 1 / base^(2i/d); attention_factor = 1.
//   linear:  inv_freq[i] = (1 / base^(2i/d)) / factor  ("factor" required); attention_factor 1.
//   llama3:  requires factor, low_freq_factor, high_freq_factor; old = original_max_position_
//            embeddings (top-level "original_max_position_embeddings" overrides the dict's; if
//            neither, max_position_embeddings). With f = 1/base^(2i/d), wavelen = 2*pi/f,
//            low_wavelen = old/low_freq_factor, high_wavelen = old/high_freq_factor:
//              wavelen < high_wavelen           -> f
//              wavelen > low_wavelen            -> f / factor
//              otherwise (medium frequencies)   -> s = (old/wavelen - low_freq_factor) /
//                                                      (high_freq_factor - low_freq_factor);
//                                                  (1 - s) * f / factor + s * f
//            attention_factor = 1.
//   yarn:    "factor" key required (null -> max_position_embeddings / original); old =
//            original_max_position_embeddings as for llama3. beta_fast = dict value or 32 (0/null
//            -> 32), beta_slow = value or 1 (0/null -> 1), truncate default true.
//              pos_freqs[i] = base^(2i/d); extrap[i] = 1/pos_freqs[i]; interp[i] = 1/(factor*pos_freqs[i])
//              corr_dim(r) = d * ln(old / (r * 2*pi)) / (2 * ln(base))
//              low = corr_dim(beta_fast), high = corr_dim(beta_slow);
//              if truncate: low = floor(low), high = ceil(high);  low = max(low, 0), high = min(high, d-1)
//              if low == high: high += 0.001
//              ramp[i] = clamp((i - low) / (high - low), 0, 1)       (i = 0 .. d/2-1)
//              extrap_factor[i] = 1 - ramp[i]
//              inv_freq[i] = interp[i] * (1 - extrap_factor[i]) + extrap[i] * extrap_factor[i]
//            attention_factor (cos and sin are multiplied by it) = the dict's "attention_factor"
//            if non-null, else with get_mscale(s, m) = s <= 1 ? 1 : 0.1*m*ln(s) + 1:
//              mscale and mscale_all_dim both non-zero -> get_mscale(factor, mscale) /
//                                                         get_mscale(factor, mscale_all_dim)
//              otherwise                                -> get_mscale(factor, 1)
//            RopeScaling::attention_factor holds this resolved value.
//   "dynamic", "longrope", "proportional", anything else: BAD_CONFIG (not implemented).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rope-freqs.h"
#include "status.h"

namespace xlam {

enum class Arch : uint8_t { kLlama, kMistral, kQwen2, kMixtral };
const char* arch_name(Arch a);

enum class RopeType : uint8_t { kDefault, kLinear, kLlama3, kYarn };
const char* rope_type_name(RopeType t);

struct RopeScaling {
  RopeType type = RopeType::kDefault;
  double factor = 1.0;                        // linear, llama3, yarn (yarn: resolved when null)
  double low_freq_factor = 0.0;               // llama3
  double high_freq_factor = 0.0;              // llama3
  int64_t original_max_position_embeddings = 0;  // llama3, yarn (resolved)
  double beta_fast = 32.0;                    // yarn
  double beta_slow = 1.0;                     // yarn
  double mscale = 0.0;                        // yarn, 0 = absent
  double mscale_all_dim = 0.0;                // yarn, 0 = absent
  double attention_factor = 1.0;              // resolved cos/sin multiplier (yarn; 1 otherwise)
  bool attention_factor_given = false;        // yarn: "attention_factor" was in the config
  bool truncate = true;                       // yarn
};

struct ModelConfig {
  Arch arch = Arch::kLlama;
  std::string model_type;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;          // dense MLP, or each expert's for mixtral
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 0.0;
  double rope_theta = 0.0;
  RopeScaling rope;
  bool tie_word_embeddings = false;
  bool attn_qkv_bias = false;             // q_proj, k_proj, v_proj have .bias
  bool attn_o_bias = false;               // o_proj has .bias
  bool mlp_bias = false;                  // gate_proj, up_proj, down_proj have .bias
  std::vector<int32_t> sliding_window;    // per layer, 0 = full attention
  int64_t num_local_experts = 0;          // mixtral; 0 for dense models
  int64_t num_experts_per_tok = 0;        // mixtral; 0 for dense models
  int64_t bos_token_id = -1;              // -1: none
  std::vector<int64_t> eos_token_ids;     // empty: none
  std::string dtype;                      // "dtype" or legacy "torch_dtype"; empty if absent
};

// Limits used by validation.
constexpr int64_t kMaxConfigDim = int64_t{1} << 20;     // hidden, intermediate, heads, head_dim
constexpr int64_t kMaxVocab = int64_t{1} << 31;
constexpr int64_t kMaxLayers = 512;
constexpr int64_t kMaxExperts = 1024;
constexpr int64_t kMaxPositions = int64_t{1} << 24;

// Parse and validate config.json text. Invalid JSON or out-of-range/mistyped values give
// BAD_CONFIG naming the field; a model_type other than the four above gives
// UNKNOWN_MODEL_TYPE. `file` is recorded in the Status.
Status parse_model_config(std::string_view json_text, const std::string& file, ModelConfig* out);

// The RoPE of a parsed config, for compute_rope_freqs.
RopeSpec rope_spec_of(const ModelConfig& c);

struct GenerationConfig {
  int64_t bos_token_id = -1;           // -1: absent
  std::vector<int64_t> eos_token_ids;  // empty: absent
};

// Parse generation_config.json: bos_token_id (int/null) and eos_token_id (int, list of ints or
// null). Other keys are ignored. Errors are BAD_CONFIG.
Status parse_generation_config(std::string_view json_text, const std::string& file, GenerationConfig* out);

}  // namespace xlam
