// Rotary inverse frequencies and attention factor for each rope_scaling variant, computed the
// way transformers' modeling_rope_utils.py does (f32 arithmetic where it uses f32).
#pragma once
#include <cstdint>
#include <vector>

#include "status.h"

namespace xlam {

enum class RopeKind { kDefault, kLinear, kLlama3, kYarn };

struct RopeSpec {
  RopeKind kind = RopeKind::kDefault;
  double theta = 10000.0;
  int64_t head_dim = 0;                 // rotary dimension (partial_rotary_factor 1)
  int64_t max_position_embeddings = 0;
  double factor = 1.0;                  // linear, llama3, yarn
  double low_freq_factor = 1.0;         // llama3
  double high_freq_factor = 4.0;        // llama3
  int64_t original_max_position_embeddings = 0;  // llama3, yarn (0: max_position_embeddings)
  double beta_fast = 32.0, beta_slow = 1.0;      // yarn
  double mscale = 0.0, mscale_all_dim = 0.0;     // yarn (0: absent)
  double attention_factor = 0.0;                 // yarn (0: derived)
  bool truncate = true;                          // yarn
};

// inv_freq: f32 [head_dim / 2]; attn_factor multiplies cos and sin.
Status compute_rope_freqs(const RopeSpec& spec, std::vector<float>* inv_freq, float* attn_factor);

}  // namespace xlam
