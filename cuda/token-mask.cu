// apply_token_mask (backend.h) on the device, as cpu/token-mask.cc: a 2-D grid, y over rows and x
// over segments of the row; consecutive threads take consecutive tokens (coalesced stores), and
// the 32 tokens of a warp share one mask word (one broadcast load). Only disallowed logits are
// written; tokens past 32 * n_words are disallowed.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "common/gpu-compat.h"
#include "ops.h"

namespace xlam::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kTokensPerBlock = kThreads * 8;  // the row segment of one block
constexpr unsigned kMaxGridY = 65535;              // rows beyond this loop in the kernel

__global__ void __launch_bounds__(kThreads)
    token_mask_kernel(float* logits,          // f32 [n_rows, n_vocab], in place
                      const uint32_t* mask,   // i32 [n_rows, n_words] read as u32
                      int64_t n_rows, int64_t n_vocab, int64_t n_words) {
  for (int64_t r = blockIdx.y; r < n_rows; r += gridDim.y) {
    float* row = logits + r * n_vocab;
    const uint32_t* words = mask + r * n_words;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n_vocab;
         i += static_cast<int64_t>(gridDim.x) * kThreads) {
      const int64_t w = i / 32;
      const bool allowed = w < n_words && ((words[w] >> (i % 32)) & 1u);
      if (!allowed) row[i] = -INFINITY;
    }
  }
}

}  // namespace

Status apply_token_mask(const Context& ctx, const Tensor& logits,  // f32 [n_rows, n_vocab], in place
                        const Tensor& mask) {                        // i32 [n_rows, n_words]
  const char* op = "apply_token_mask";
  XLAM_TRY(check_apply_token_mask(logits, mask));
  const int64_t n_rows = logits.shape[0], n_vocab = logits.shape[1], n_words = mask.shape[1];
  if (n_rows == 0 || n_vocab == 0) return Status::Ok();
  const dim3 grid(static_cast<unsigned>((n_vocab + kTokensPerBlock - 1) / kTokensPerBlock),
                  static_cast<unsigned>(std::min<int64_t>(n_rows, kMaxGridY)));
  const cudaError_t err = gpu::launch(token_mask_kernel, grid, dim3(kThreads), 0, ctx.stream,
                                      static_cast<float*>(logits.data), static_cast<const uint32_t*>(mask.data),
                                      n_rows, n_vocab, n_words);
  return launch_status(err, op);
}

}  // namespace xlam::cuda
