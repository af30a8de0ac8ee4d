// Log-sum-exp merge of the decode kernel's split partials: partitions folded in ascending order
// with attention-tile.cuh's fold_scales, as the prefill kernel folds them in registers, so the
// merged output has the same bits as a prefill row.
#include "attention-kernels.h"

namespace xlam::cuda::attn {

namespace {

constexpr int kMergeThreads = 128;

__global__ void __launch_bounds__(kMergeThreads)
    attention_merge_kernel(float* out,                // f32 [n_tokens, n_heads, head_dim]
                           const float* part_o,       // f32 [n_tokens, n_heads, n_parts, head_dim]
                           const float* part_ml,      // f32 [n_tokens, n_heads, n_parts, 2]
                           const int32_t* token_seq,  // i32 [n_tokens]
                           const int32_t* positions,  // i32 [n_tokens]
                           Geometry g) {
  const int t = blockIdx.x;
  int seq = 0, first = 0, last = -1;
  if (!token_range(g, token_seq, positions, t, &seq, &first, &last)) return;  // the decode kernel wrote zeros
  const int p0 = first / g.part_size, p1 = last / g.part_size;
  if (p0 == p1) return;  // one partition: the decode kernel wrote the output
  for (int hd = blockIdx.y * blockDim.x + threadIdx.x; hd < g.n_heads * g.head_dim; hd += gridDim.y * blockDim.x) {
    const long long row = static_cast<long long>(t) * g.n_heads + hd / g.head_dim;
    const int d = hd % g.head_dim;
    float M = -INFINITY, Lsum = 0.0f, O = 0.0f;
    for (int p = p0; p <= p1; ++p) {
      const long long pr = row * g.n_parts + p;
      const float m = part_ml[2 * pr], l = part_ml[2 * pr + 1];
      if (m == -INFINITY) continue;  // no key of this partition had a cache row
      float a = 0.0f, b = 0.0f;
      const bool folded = fold_scales(&M, &Lsum, m, l, &a, &b);
      O = fold_value(folded, O, part_o[pr * g.head_dim + d], a, b);
    }
    out[row * g.head_dim + d] = finalize(O, Lsum);
  }
}

}  // namespace

cudaError_t launch_merge(const Context& ctx, const Args& a, const float* part_o, const float* part_ml) {
  const int per_token = a.g.n_heads * a.g.head_dim;
  const int gy = (per_token + kMergeThreads - 1) / kMergeThreads;
  const dim3 grid(a.g.n_tokens, gy < 65535 ? gy : 65535);
  return gpu::launch(attention_merge_kernel, grid, dim3(kMergeThreads), 0, ctx.stream, a.out, part_o, part_ml,
                     a.token_seq, a.positions, a.g);
}

}  // namespace xlam::cuda::attn
