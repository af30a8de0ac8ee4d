// libFuzzer target: config.json and generation_config.json text through their parsers, and an
// accepted config's RoPE through compute_rope_freqs, as Model::load uses them. Any input must give
// a Status; an accepted config must be within the limits config.h documents.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "config.h"
#include "rope-freqs.h"

using namespace xlam;

namespace {

void check_rope(const ModelConfig& c) {
  RopeSpec r = rope_spec_of(c);
  std::vector<float> inv_freq;
  float attn = 0;
  if (!compute_rope_freqs(r, &inv_freq, &attn).ok()) return;
  if (static_cast<int64_t>(inv_freq.size()) * 2 != c.head_dim) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ModelConfig c;
  Status st = parse_model_config(text, "config.json", &c);
  if (st.ok()) {
    if (c.hidden_size <= 0 || c.hidden_size > kMaxConfigDim || c.num_hidden_layers <= 0 || c.num_hidden_layers > kMaxLayers ||
        c.num_attention_heads <= 0 || c.num_key_value_heads <= 0 || c.num_attention_heads % c.num_key_value_heads != 0 ||
        c.head_dim <= 0 || c.head_dim > kMaxConfigDim || c.vocab_size <= 0 || c.vocab_size > kMaxVocab ||
        static_cast<int64_t>(c.sliding_window.size()) != c.num_hidden_layers || !(c.rms_norm_eps > 0) ||
        !std::isfinite(c.rope_theta))
      __builtin_trap();
    check_rope(c);
  } else if (st.message.empty()) {
    __builtin_trap();
  }
  GenerationConfig g;
  Status gs = parse_generation_config(text, "generation_config.json", &g);
  if (!gs.ok() && gs.message.empty()) __builtin_trap();
  return 0;
}
