// Chunked-prefill paged attention: rows are (token, query head) pairs of one KV head, numbered
// token * group + head-in-group, 16 per warp. A block whose rows belong to several sequences (a
// mixed batch, or a chunk boundary) runs one pass per sequence with only that sequence's rows
// active. Partitions are folded in the block in ascending order (the running output lives in
// `out`, each element owned by one lane), with attention-tile.cuh's arithmetic, so every row gets
// the bits the decode kernel + merge would give it.
#include "attention-kernels.h"

namespace xlam::cuda::attn {

namespace {

// Warps (16 rows each) per block: 4 on tensor cores; 2 on SIMT, whose f32 tiles must fit sm_75's
// 64 KiB of shared memory.
template <bool TC>
constexpr int kPrefillWarps = TC ? 4 : 2;

template <int HDP, bool TC>
__global__ void __launch_bounds__(kPrefillWarps<TC> * 32, 1)
    attention_prefill_kernel(float* out,                   // f32 [n_tokens, n_heads, head_dim]
                             const float* q,               // f32 [n_tokens, n_heads, head_dim]
                             const float* k_cache,         // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                             const float* v_cache,         // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                             const int32_t* block_tables,  // i32 [n_seqs, max_blocks]
                             const int32_t* token_seq,     // i32 [n_tokens]
                             const int32_t* positions,     // i32 [n_tokens]
                             Geometry g) {
  constexpr int WARPS = kPrefillWarps<TC>, ROWS = WARPS * 16, NTO = HDP / 8, KT = kKeyTile;
  using L = SmemLayout<HDP, TC, ROWS, WARPS>;
  CUDA_DYNAMIC_SHARED(uint32_t, smem);
  __shared__ long long key_off[KT];
  __shared__ long long q_off[ROWS];  // staged row offset (also the out offset); -1: not in this pass
  __shared__ long long row_off[ROWS];
  __shared__ int row_seq[ROWS], row_first[ROWS], row_last[ROWS], row_todo[ROWS];
  __shared__ int pass_seq, pass_lo, pass_hi;

  const int kvh = blockIdx.y;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
  const long long n_rows = static_cast<long long>(g.n_tokens) * g.group;

  if (threadIdx.x < ROWS) {
    const int i = threadIdx.x;
    const long long r = static_cast<long long>(blockIdx.x) * ROWS + i;
    row_todo[i] = 0;
    row_off[i] = -1;
    if (r < n_rows) {
      const int t = static_cast<int>(r / g.group), h = kvh * g.group + static_cast<int>(r % g.group);
      row_off[i] = (static_cast<long long>(t) * g.n_heads + h) * g.head_dim;
      int seq, first, last;
      if (token_range(g, token_seq, positions, t, &seq, &first, &last)) {
        row_seq[i] = seq;
        row_first[i] = first;
        row_last[i] = last;
        row_todo[i] = 1;
      } else {
        for (int d = 0; d < g.head_dim; ++d) out[row_off[i] + d] = 0.0f;  // nothing to attend to
      }
    }
  }

  for (;;) {
    __syncthreads();  // row_todo is settled; the previous pass is done with shared memory
    if (threadIdx.x == 0) {
      int s = -1, lo = 0, hi = -1;
      for (int i = 0; i < ROWS; ++i) {
        if (!row_todo[i]) continue;
        if (s < 0) {
          s = row_seq[i];
          lo = row_first[i];
          hi = row_last[i];
        } else if (row_seq[i] == s) {
          lo = row_first[i] < lo ? row_first[i] : lo;
          hi = row_last[i] > hi ? row_last[i] : hi;
        }
      }
      pass_seq = s;
      pass_lo = lo;
      pass_hi = hi;
    }
    __syncthreads();
    const int seq = pass_seq, lo = pass_lo, hi = pass_hi;
    if (seq < 0) break;
    if (threadIdx.x < ROWS) {
      const int i = threadIdx.x;
      q_off[i] = row_todo[i] && row_seq[i] == seq ? row_off[i] : -1;
    }
    __syncthreads();
    stage_q<HDP, TC, ROWS, WARPS>(smem, q, q_off, g.head_dim);

    // The lane's rows: warp * 16 + gq and + 8.
    int rf[2], rl[2];
    long long ro[2];
    bool warp_active = false;
#pragma unroll
    for (int rr = 0; rr < 2; ++rr) {
      const int i = warp * 16 + gq + 8 * rr;
      ro[rr] = q_off[i];
      rf[rr] = ro[rr] >= 0 ? row_first[i] : 1;
      rl[rr] = ro[rr] >= 0 ? row_last[i] : 0;
    }
    for (int i = 0; i < 16; ++i) warp_active |= q_off[warp * 16 + i] >= 0;
    const int32_t* table = block_tables + static_cast<long long>(seq) * g.max_blocks;
    float* p_stage = reinterpret_cast<float*>(smem + L::p_off) + warp * 16 * L::PS;
    float M[2] = {-INFINITY, -INFINITY}, Lsum[2] = {0.0f, 0.0f};

    for (int part = lo / g.part_size; part <= hi / g.part_size; ++part) {
      int plo = 0, phi = -1;
      // Never empty (part lies between lo's and hi's); the test is uniform over the block.
      if (!partition_keys(g, part, lo, hi, &plo, &phi)) continue;
      float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f}, o[NTO][4];
#pragma unroll
      for (int n = 0; n < NTO; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
      for (int j = plo / KT; j <= phi / KT; ++j) {
        __syncthreads();  // the previous tile is consumed
        tile_key_offsets(g, table, j * KT, plo, phi, key_off);
        __syncthreads();
        stage_kv<HDP, TC, ROWS, WARPS>(smem, k_cache, v_cache, key_off, kvh, g.head_dim);
        __syncthreads();
        if (!warp_active) continue;  // warp-uniform: no row of this warp is in the pass
        float s[KT / 8][4];
        tile_scores<HDP, TC, ROWS, WARPS>(smem, warp * 16, s);
        softmax_step<NTO>(s, m, l, o, j * KT, rf, rl, key_off, g.scale);
        tile_pv<HDP, TC, ROWS, WARPS, NTO>(smem, s, o, 0, p_stage);
      }
      // Fold the partition into the running output (in out; the lane's own elements).
#pragma unroll
      for (int rr = 0; rr < 2; ++rr) {
        if (ro[rr] < 0 || m[rr] == -INFINITY) continue;
        float a = 0.0f, b = 0.0f;
        const bool folded = fold_scales(&M[rr], &Lsum[rr], m[rr], l[rr], &a, &b);
#pragma unroll
        for (int n = 0; n < NTO; ++n)
#pragma unroll
          for (int c = 0; c < 2; ++c) {
            const int d = n * 8 + 2 * tq + c;
            if (d < g.head_dim) {
              float* po = out + ro[rr] + d;
              *po = fold_value(folded, folded ? *po : 0.0f, o[n][2 * rr + c], a, b);
            }
          }
      }
    }
#pragma unroll
    for (int rr = 0; rr < 2; ++rr) {
      if (ro[rr] < 0) continue;
#pragma unroll
      for (int n = 0; n < NTO; ++n)
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          const int d = n * 8 + 2 * tq + c;
          if (d < g.head_dim) {
            float* po = out + ro[rr] + d;
            *po = finalize(Lsum[rr] > 0.0f ? *po : 0.0f, Lsum[rr]);
          }
        }
    }
    __syncthreads();  // every lane has read q_off
    if (threadIdx.x < ROWS && q_off[threadIdx.x] >= 0) row_todo[threadIdx.x] = 0;
  }
}

template <int HDP, bool TC>
cudaError_t launch_prefill_hdp(const Context& ctx, const Args& a) {
  constexpr int WARPS = kPrefillWarps<TC>, ROWS = WARPS * 16;
  constexpr size_t smem = SmemLayout<HDP, TC, ROWS, WARPS>::bytes;
  auto kernel = attention_prefill_kernel<HDP, TC>;
  if (smem > 48 * 1024) {
    const cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
    if (err != cudaSuccess) return err;
  }
  const long long n_rows = static_cast<long long>(a.g.n_tokens) * a.g.group;
  const dim3 grid(static_cast<unsigned>((n_rows + ROWS - 1) / ROWS), a.g.n_kv_heads);
  return gpu::launch(kernel, grid, dim3(WARPS * 32), smem, ctx.stream, a.out, a.q, a.k_cache, a.v_cache,
                     a.block_tables, a.token_seq, a.positions, a.g);
}

template <bool TC>
cudaError_t launch_prefill_tc(const Context& ctx, const Args& a) {
  switch (padded_head_dim(a.g.head_dim)) {
    case 16: return launch_prefill_hdp<16, TC>(ctx, a);
    case 32: return launch_prefill_hdp<32, TC>(ctx, a);
    case 64: return launch_prefill_hdp<64, TC>(ctx, a);
    case 128: return launch_prefill_hdp<128, TC>(ctx, a);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace

cudaError_t launch_prefill(const Context& ctx, const Args& a, bool tc) {
  return tc ? launch_prefill_tc<true>(ctx, a) : launch_prefill_tc<false>(ctx, a);
}

}  // namespace xlam::cuda::attn
