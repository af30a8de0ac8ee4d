// Paged decode attention: the query heads of one KV head packed as the rows of an m16 tile, the
// KV length split into partitions (grid z) merged by attention-merge.cu. Per-row arithmetic is
// attention-tile.cuh's, shared with the prefill kernel (batch invariance).
#include "attention-kernels.h"

namespace xlam::cuda::attn {

namespace {

// Warps per decode block: each computes the scores of all 16 rows (the same bits in every warp)
// and P.V for its slice of the output dimensions.
template <int HDP>
constexpr int kDecodeWarps = HDP / 8 < 4 ? HDP / 8 : 4;

template <int HDP, bool TC>
__global__ void __launch_bounds__(kDecodeWarps<HDP> * 32)
    attention_decode_kernel(float* out,                 // f32 [n_tokens, n_heads, head_dim]
                            float* part_o,              // f32 [n_tokens, n_heads, n_parts, head_dim]
                            float* part_ml,             // f32 [n_tokens, n_heads, n_parts, 2]
                            const float* q,             // f32 [n_tokens, n_heads, head_dim]
                            const float* k_cache,       // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                            const float* v_cache,       // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                            const int32_t* block_tables,  // i32 [n_seqs, max_blocks]
                            const int32_t* token_seq,   // i32 [n_tokens]
                            const int32_t* positions,   // i32 [n_tokens]
                            Geometry g) {
  constexpr int WARPS = kDecodeWarps<HDP>, NTO = HDP / 8 / WARPS, KT = kKeyTile;
  using L = SmemLayout<HDP, TC, 16, WARPS>;
  CUDA_DYNAMIC_SHARED(uint32_t, smem);
  __shared__ long long key_off[KT];
  __shared__ long long q_off[16];

  const int t = blockIdx.x, n_mt = (g.group + 15) / 16;
  const int kvh = blockIdx.y / n_mt, h0 = (blockIdx.y % n_mt) * 16, part = blockIdx.z;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
  const int n_rows = g.group - h0 < 16 ? g.group - h0 : 16;  // heads of this slice
  const long long row0 = (static_cast<long long>(t) * g.n_heads + kvh * g.group + h0) * g.head_dim;

  int seq = 0, first = 0, last = -1;
  if (!token_range(g, token_seq, positions, t, &seq, &first, &last)) {
    if (part == 0)  // nothing to attend to: zeros, once
      for (int i = threadIdx.x; i < n_rows * g.head_dim; i += blockDim.x) out[row0 + i] = 0.0f;
    return;
  }
  int lo, hi;
  if (!partition_keys(g, part, first, last, &lo, &hi)) return;  // none of the token's keys: the block leaves
  const bool single = first / g.part_size == last / g.part_size;
  const int32_t* table = block_tables + static_cast<long long>(seq) * g.max_blocks;

  if (threadIdx.x < 16) q_off[threadIdx.x] = static_cast<int>(threadIdx.x) < n_rows ? row0 + threadIdx.x * g.head_dim : -1;
  __syncthreads();
  stage_q<HDP, TC, 16, WARPS>(smem, q, q_off, g.head_dim);

  int rf[2], rl[2];  // the lane's rows: heads h0 + gq and h0 + gq + 8
#pragma unroll
  for (int rr = 0; rr < 2; ++rr) {
    const bool ok = gq + 8 * rr < n_rows;
    rf[rr] = ok ? first : 1;
    rl[rr] = ok ? last : 0;
  }
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f}, o[NTO][4];
#pragma unroll
  for (int n = 0; n < NTO; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float* p_stage = reinterpret_cast<float*>(smem + L::p_off) + warp * 16 * L::PS;
  const int n0 = warp * NTO;

  for (int j = lo / KT; j <= hi / KT; ++j) {
    __syncthreads();  // the previous tile is consumed
    tile_key_offsets(g, table, j * KT, lo, hi, key_off);
    __syncthreads();
    stage_kv<HDP, TC, 16, WARPS>(smem, k_cache, v_cache, key_off, kvh, g.head_dim);
    __syncthreads();
    float s[KT / 8][4];
    tile_scores<HDP, TC, 16, WARPS>(smem, 0, s);
    softmax_step<NTO>(s, m, l, o, j * KT, rf, rl, key_off, g.scale);
    tile_pv<HDP, TC, 16, WARPS, NTO>(smem, s, o, n0, p_stage);
  }

  // The lane's elements: rows gq + 8*rr, dimensions (n0 + n)*8 + 2*tq + c.
#pragma unroll
  for (int rr = 0; rr < 2; ++rr) {
    const int r = gq + 8 * rr;
    if (r >= n_rows) continue;
    const long long h = static_cast<long long>(t) * g.n_heads + kvh * g.group + h0 + r;
    const long long p_row = h * g.n_parts + part;
#pragma unroll
    for (int n = 0; n < NTO; ++n)
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const int d = (n0 + n) * 8 + 2 * tq + c;
        if (d >= g.head_dim) continue;
        if (single)
          out[h * g.head_dim + d] = finalize(o[n][2 * rr + c], l[rr]);
        else
          part_o[p_row * g.head_dim + d] = o[n][2 * rr + c];
      }
    if (!single && warp == 0 && tq == 0) {
      part_ml[2 * p_row] = m[rr];
      part_ml[2 * p_row + 1] = l[rr];
    }
  }
}

template <int HDP, bool TC>
cudaError_t launch_decode_hdp(const Context& ctx, const Args& a, float* part_o, float* part_ml) {
  constexpr int WARPS = kDecodeWarps<HDP>;
  constexpr size_t smem = SmemLayout<HDP, TC, 16, WARPS>::bytes;
  auto kernel = attention_decode_kernel<HDP, TC>;
  if (smem > 48 * 1024) {
    const cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
    if (err != cudaSuccess) return err;
  }
  const dim3 grid(a.g.n_tokens, a.g.n_kv_heads * ((a.g.group + 15) / 16), a.g.n_parts);
  return gpu::launch(kernel, grid, dim3(WARPS * 32), smem, ctx.stream, a.out, part_o, part_ml, a.q, a.k_cache,
                     a.v_cache, a.block_tables, a.token_seq, a.positions, a.g);
}

template <bool TC>
cudaError_t launch_decode_tc(const Context& ctx, const Args& a, float* part_o, float* part_ml) {
  switch (padded_head_dim(a.g.head_dim)) {
    case 16: return launch_decode_hdp<16, TC>(ctx, a, part_o, part_ml);
    case 32: return launch_decode_hdp<32, TC>(ctx, a, part_o, part_ml);
    case 64: return launch_decode_hdp<64, TC>(ctx, a, part_o, part_ml);
    case 128: return launch_decode_hdp<128, TC>(ctx, a, part_o, part_ml);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace

cudaError_t launch_decode(const Context& ctx, const Args& a, bool tc, float* part_o, float* part_ml) {
  return tc ? launch_decode_tc<true>(ctx, a, part_o, part_ml) : launch_decode_tc<false>(ctx, a, part_o, part_ml);
}

}  // namespace xlam::cuda::attn
