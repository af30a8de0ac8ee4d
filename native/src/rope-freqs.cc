#include "rope-freqs.h"

#include <algorithm>
#include <cmath>

namespace xlam {

namespace {

constexpr double kPi = 3.14159265358979323846;

// HF: base ** (arange(0, dim, 2).float() / dim), in f32.
std::vector<float> pos_freqs(double theta, int64_t dim) {
  std::vector<float> f(static_cast<size_t>(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i) {
    const float expo = static_cast<float>(2 * i) / static_cast<float>(dim);
    f[i] = static_cast<float>(std::pow(static_cast<double>(static_cast<float>(theta)), static_cast<double>(expo)));
  }
  return f;
}

double yarn_mscale(double scale, double mscale) {
  if (scale <= 1) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

}  // namespace

Status compute_rope_freqs(const RopeSpec& s, std::vector<float>* inv_freq, float* attn_factor) {
  if (s.head_dim <= 0 || s.head_dim % 2 != 0 || !(s.theta > 0) || !std::isfinite(s.theta))
    return Status::Error(Code::kBadConfig, "rope: head_dim must be even and rope_theta positive");
  if (!(s.factor > 0) || !std::isfinite(s.factor))
    return Status::Error(Code::kBadConfig, "rope_scaling.factor must be positive");
  const int64_t dim = s.head_dim, half = dim / 2;
  const std::vector<float> pf = pos_freqs(s.theta, dim);
  std::vector<float>& inv = *inv_freq;
  inv.assign(static_cast<size_t>(half), 0.0f);
  for (int64_t i = 0; i < half; ++i) inv[i] = 1.0f / pf[i];
  *attn_factor = 1.0f;
  const int64_t orig = s.original_max_position_embeddings > 0 ? s.original_max_position_embeddings
                                                               : s.max_position_embeddings;
  switch (s.kind) {
    case RopeKind::kDefault:
      return Status::Ok();
    case RopeKind::kLinear:
      for (float& f : inv) f = f / static_cast<float>(s.factor);
      return Status::Ok();
    case RopeKind::kLlama3: {
      if (orig <= 0 || !(s.high_freq_factor > s.low_freq_factor) || !(s.low_freq_factor > 0))
        return Status::Error(Code::kBadConfig, "rope_scaling llama3: needs original_max_position_embeddings > 0 "
                                               "and high_freq_factor > low_freq_factor > 0");
      const double low_wavelen = orig / s.low_freq_factor, high_wavelen = orig / s.high_freq_factor;
      const float factor = static_cast<float>(s.factor);
      for (float& f : inv) {
        const float wavelen = static_cast<float>(2 * kPi) / f;
        float scaled = wavelen > low_wavelen ? f / factor : f;
        const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
        if (medium) {
          const float smooth = static_cast<float>((orig / wavelen - s.low_freq_factor) /
                                                  (s.high_freq_factor - s.low_freq_factor));
          scaled = (1 - smooth) * scaled / factor + smooth * scaled;
        }
        f = scaled;
      }
      return Status::Ok();
    }
    case RopeKind::kYarn: {
      if (orig <= 0) return Status::Error(Code::kBadConfig, "rope_scaling yarn: needs original_max_position_embeddings");
      double af = s.attention_factor;
      if (!(af > 0)) {
        af = (s.mscale != 0 && s.mscale_all_dim != 0)
                 ? yarn_mscale(s.factor, s.mscale) / yarn_mscale(s.factor, s.mscale_all_dim)
                 : yarn_mscale(s.factor, 1.0);
      }
      auto correction_dim = [&](double rotations) {
        return (dim * std::log(orig / (rotations * 2 * kPi))) / (2 * std::log(s.theta));
      };
      double low = correction_dim(s.beta_fast), high = correction_dim(s.beta_slow);
      if (s.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
      }
      low = std::max(low, 0.0);
      high = std::min(high, static_cast<double>(dim - 1));
      if (low == high) high += 0.001;
      const float factor = static_cast<float>(s.factor);
      for (int64_t i = 0; i < half; ++i) {
        float ramp = (static_cast<float>(i) - static_cast<float>(low)) / static_cast<float>(high - low);
        ramp = std::min(1.0f, std::max(0.0f, ramp));
        const float extra_factor = 1.0f - ramp;
        const float interp = 1.0f / (factor * pf[i]), extra = 1.0f / pf[i];
        inv[i] = interp * (1 - extra_factor) + extra * extra_factor;
      }
      *attn_factor = static_cast<float>(af);
      return Status::Ok();
    }
  }
  return Status::Error(Code::kBadConfig, "unknown rope kind");
}

}  // namespace xlam
