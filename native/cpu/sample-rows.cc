// sample (backend.h): the next token of each row of logits, by the engine's own sampler
// (draw_from_logits in native/src/sample.cc), so this op is the host sampler itself.
#include <cstdint>

#include "../src/sample-math.h"
#include "../src/sample.h"
#include "ops.h"

namespace xlam::cpu {

namespace {

// The token of row r (-2: parameters out of range).
int32_t sample_row(const float* logits,  // f32 [n_vocab]
                   int64_t n_vocab,
                   const float* params,  // f32 [4]: temperature, top_p, min_p, top_k
                   const int32_t* rng) {  // i32 [4]: seed lo, seed hi, step lo, step hi
  if (!draw_params_valid(params[0], params[1], params[2], params[3])) return -2;
  SamplingParams p;
  p.temperature = params[0];
  p.top_p = params[1];
  p.min_p = params[2];
  p.top_k = top_k_of(params[3]);
  auto u64 = [](int32_t lo, int32_t hi) {
    return static_cast<uint64_t>(static_cast<uint32_t>(lo)) | static_cast<uint64_t>(static_cast<uint32_t>(hi)) << 32;
  };
  p.seed = u64(rng[0], rng[1]);
  return draw_from_logits(logits, n_vocab, p, u64(rng[2], rng[3]));
}

}  // namespace

Status sample(const Context& ctx, const Tensor& out,  // i32 [n_rows]
              const Tensor& logits,                    // f32 [n_rows, n_vocab], may be overwritten
              const Tensor& params,                    // f32 [n_rows, 4]: temperature, top_p, min_p, top_k
              const Tensor& rng) {                     // i32 [n_rows, 4]: seed lo, seed hi, step lo, step hi
  XLAM_TRY(check_sample(out, logits, params, rng));
  const int64_t n_rows = logits.shape[0], n_vocab = logits.shape[1];
  int32_t* o = static_cast<int32_t*>(out.data);
  const float* l = static_cast<const float*>(logits.data);
  const float* pr = static_cast<const float*>(params.data);
  const int32_t* rn = static_cast<const int32_t*>(rng.data);
  auto rows = [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) o[r] = sample_row(l + r * n_vocab, n_vocab, pr + 4 * r, rn + 4 * r);
  };
  if (ctx.reference) rows(0, n_rows);
  else ctx.pool->parallel_for(n_rows, rows);
  return Status::Ok();
}

}  // namespace xlam::cpu
