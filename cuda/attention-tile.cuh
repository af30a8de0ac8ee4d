// The per-row arithmetic of paged attention, shared by the decode and the prefill kernel so that a
// token's output has the same bits whichever kernel computes it (batch invariance).
//
// Rows are (token, query head) pairs; a warp owns an m16 tile of 16 rows. Keys are walked in tiles
// of kKeyTile positions aligned to absolute positions (tile j = positions j*32 .. j*32+31), grouped
// into partitions of `part_size` positions (also absolute). Per partition a row keeps an online
// softmax state (m = running max, l = running sum, o = unnormalised output) that starts fresh;
// partitions are folded in ascending order with fold_scales(), then out = O / L. Every step is a
// function of the row's own query, its sequence's cache and its key range only:
//   - an mma.sync output element depends on its own A row and B column only;
//   - a tile or a partition that holds no key of a row leaves its state bit-for-bit unchanged
//     (max unchanged, alpha = expf(0) = 1, p = 0, products 0 * finite = 0);
//   - row reductions run over the same lanes in the same order in every warp;
//   - products that must not contract into FMAs go through mul_rn().
// So decode (the query heads of one KV head as rows) and prefill (tokens x heads as rows) agree.
//
// Accuracy: the tensor-core path splits every f32 operand into bf16 hi + lo (x = hi + lo + r,
// |r| <= 2^-17 |x|) and accumulates lo*hi + hi*lo + hi*hi in f32 (3xBF16) for Q.K^T and for P.V;
// relative error per product about 2^-16, softmax in f32 with expf. The SIMT twin (cc < 80, no bf16
// mma) computes the same fragments with f32 FMA chains.
#pragma once
#include <math.h>

#include <cstdint>
#include <cstring>

#include "common/gpu-compat.h"
#include "common/ptx.cuh"

namespace xlam::cuda::attn {

constexpr int kKeyTile = 32;         // keys per KV tile, aligned to absolute positions
constexpr int kPartition = 512;      // keys per split partition in batch-invariant mode
constexpr int kMaxHeadDim = 128;     // head_dim is padded to 16, 32, 64 or 128

// Geometry of one attention call (shapes of backend.h), passed to kernels by value.
struct Geometry {
  int n_tokens, n_heads, n_kv_heads, head_dim, group;  // group = n_heads / n_kv_heads
  int block_size, n_blocks, n_seqs, max_blocks;         // paged cache and block tables
  int window;                                           // sliding window, 0: none
  int part_size;                                        // keys per partition (multiple of kKeyTile)
  int n_parts;                                          // partitions of the longest table
  float scale;
};

// Shared-memory layout of one block. TC: bf16 hi/lo pairs packed two per u32 along the dimension an
// mma fragment reads (head_dim for Q and K, keys for V, which is stored transposed). SIMT: f32.
// Strides are padded so the fragment reads of a warp hit distinct banks.
template <int HDP, bool TC, int ROWS, int WARPS>
struct SmemLayout {
  static constexpr int KT = kKeyTile;
  // TC (u32 words)
  static constexpr int QS2 = HDP / 2 + 4;  // Q and K row stride in u32 pairs
  static constexpr int VS2 = KT / 2 + 4;   // transposed V row stride in u32 pairs
  // SIMT (floats)
  static constexpr int QS = HDP + 4;       // Q, K and V row stride
  static constexpr int PS = KT + 4;        // staged P row stride
  static constexpr int q_words = TC ? 2 * ROWS * QS2 : ROWS * QS;
  static constexpr int k_words = TC ? 2 * KT * QS2 : KT * QS;
  static constexpr int v_words = TC ? 2 * HDP * VS2 : KT * QS;
  static constexpr int p_words = TC ? 0 : WARPS * 16 * PS;
  static constexpr int q_off = 0, k_off = q_off + q_words, v_off = k_off + k_words, p_off = v_off + v_words;
  static constexpr int words = p_off + p_words;
  static constexpr size_t bytes = static_cast<size_t>(words) * 4;
};

__device__ __forceinline__ float mul_rn(float a, float b) {
#if GPU_EMULATED
  return a * b;  // host builds do not contract (no FMA in the baseline ISA)
#else
  return __fmul_rn(a, b);  // never contracted into an FMA
#endif
}

__device__ __forceinline__ uint32_t float_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  return u;
}
__device__ __forceinline__ float bits_float(uint32_t u) {
  float x;
  memcpy(&x, &u, 4);
  return x;
}
// bf16 bits of x, round to nearest even (NaN stays NaN).
__device__ __forceinline__ uint32_t bf16_rn(float x) {
  const uint32_t u = float_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}
// Splits two values into packed bf16 hi (x0 low half, x1 high half) and packed bf16 lo.
__device__ __forceinline__ void split2(float x0, float x1, uint32_t* hi, uint32_t* lo) {
  const uint32_t h0 = bf16_rn(x0), h1 = bf16_rn(x1);
  const uint32_t l0 = bf16_rn(x0 - bits_float(h0 << 16)), l1 = bf16_rn(x1 - bits_float(h1 << 16));
  *hi = h0 | (h1 << 16);
  *lo = l0 | (l1 << 16);
}

// acc += a * b on the tensor cores (one m16n8k16 step).
__device__ __forceinline__ void mma_acc(float (&acc)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  float d[4];
  gpu::mma_m16n8k16_bf16(d, a, b, acc);
  acc[0] = d[0];
  acc[1] = d[1];
  acc[2] = d[2];
  acc[3] = d[3];
}

// Absolute key range [first, last] of token t, or false when its sequence, position or table row
// is out of range (the kernels then write zeros for it and read nothing).
__device__ __forceinline__ bool token_range(const Geometry& g,
                                            const int32_t* token_seq,  // i32 [n_tokens]
                                            const int32_t* positions,  // i32 [n_tokens]
                                            int t, int* seq, int* first, int* last) {
  const int s = token_seq[t], p = positions[t];
  if (s < 0 || s >= g.n_seqs || p < 0 || p / g.block_size >= g.max_blocks) return false;
  *seq = s;
  *last = p;
  *first = g.window > 0 && p - g.window + 1 > 0 ? p - g.window + 1 : 0;
  return true;
}

// Keys [lo, hi] of partition `part` within [first, last]; false when they do not meet.
__device__ __forceinline__ bool partition_keys(const Geometry& g, int part, int first, int last, int* lo, int* hi) {
  const long long b = static_cast<long long>(part) * g.part_size, e = b + g.part_size - 1;
  const long long l0 = first > b ? first : b, h0 = last < e ? last : e;
  if (l0 > h0) return false;
  *lo = static_cast<int>(l0);
  *hi = static_cast<int>(h0);
  return true;
}

// Cache row offset (in floats, of kv head 0) of each key of the tile at tile_base, -1 where the key
// is outside [lo, hi] or its block-table entry is out of range. Threads < kKeyTile.
__device__ __forceinline__ void tile_key_offsets(const Geometry& g,
                                                 const int32_t* table,  // i32 [max_blocks]: the sequence's row
                                                 int tile_base, int lo, int hi, long long* key_off) {
  const int i = threadIdx.x;
  if (i >= kKeyTile) return;
  const int kp = tile_base + i;
  long long off = -1;
  if (kp >= lo && kp <= hi) {
    const int b = kp / g.block_size;
    const int blk = b < g.max_blocks ? table[b] : -1;
    if (blk >= 0 && blk < g.n_blocks)
      off = (static_cast<long long>(blk) * g.block_size + kp % g.block_size) * g.n_kv_heads * g.head_dim;
  }
  key_off[i] = off;
}

// Stage query rows into shared memory: row r reads q + q_off[r] (head_dim values), or zeros when
// q_off[r] < 0. All threads of the block.
template <int HDP, bool TC, int ROWS, int WARPS>
__device__ __forceinline__ void stage_q(uint32_t* smem, const float* q,  // f32 [n_tokens, n_heads, head_dim]
                                        const long long* q_off, int head_dim) {
  using L = SmemLayout<HDP, TC, ROWS, WARPS>;
  if constexpr (TC) {
    uint32_t* hi = smem + L::q_off;
    uint32_t* lo = hi + ROWS * L::QS2;
    for (int i = threadIdx.x; i < ROWS * (HDP / 2); i += blockDim.x) {
      const int r = i / (HDP / 2), d = 2 * (i % (HDP / 2));
      const long long o = q_off[r];
      const float x0 = o >= 0 && d < head_dim ? q[o + d] : 0.0f;
      const float x1 = o >= 0 && d + 1 < head_dim ? q[o + d + 1] : 0.0f;
      split2(x0, x1, &hi[r * L::QS2 + d / 2], &lo[r * L::QS2 + d / 2]);
    }
  } else {
    float* qs = reinterpret_cast<float*>(smem + L::q_off);
    for (int i = threadIdx.x; i < ROWS * HDP; i += blockDim.x) {
      const int r = i / HDP, d = i % HDP;
      const long long o = q_off[r];
      qs[r * L::QS + d] = o >= 0 && d < head_dim ? q[o + d] : 0.0f;
    }
  }
}

// Stage the K and V tile of kv head kvh: key i reads cache + key_off[i] + kvh * head_dim, or zeros
// when key_off[i] < 0 (so unwritten cache memory never reaches the arithmetic). All threads.
template <int HDP, bool TC, int ROWS, int WARPS>
__device__ __forceinline__ void stage_kv(uint32_t* smem,
                                         const float* k_cache,  // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                                         const float* v_cache,  // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                                         const long long* key_off, int kvh, int head_dim) {
  using L = SmemLayout<HDP, TC, ROWS, WARPS>;
  constexpr int KT = kKeyTile;
  const long long head = static_cast<long long>(kvh) * head_dim;
  if constexpr (TC) {
    uint32_t* khi = smem + L::k_off;
    uint32_t* klo = khi + KT * L::QS2;
    for (int i = threadIdx.x; i < KT * (HDP / 2); i += blockDim.x) {
      const int key = i / (HDP / 2), d = 2 * (i % (HDP / 2));
      const long long o = key_off[key];
      const float x0 = o >= 0 && d < head_dim ? k_cache[o + head + d] : 0.0f;
      const float x1 = o >= 0 && d + 1 < head_dim ? k_cache[o + head + d + 1] : 0.0f;
      split2(x0, x1, &khi[key * L::QS2 + d / 2], &klo[key * L::QS2 + d / 2]);
    }
    uint32_t* vhi = smem + L::v_off;
    uint32_t* vlo = vhi + HDP * L::VS2;
    for (int i = threadIdx.x; i < (KT / 2) * HDP; i += blockDim.x) {
      const int kp = i / HDP, d = i % HDP;  // keys 2kp, 2kp+1 of dimension d
      const long long o0 = key_off[2 * kp], o1 = key_off[2 * kp + 1];
      const float x0 = o0 >= 0 && d < head_dim ? v_cache[o0 + head + d] : 0.0f;
      const float x1 = o1 >= 0 && d < head_dim ? v_cache[o1 + head + d] : 0.0f;
      split2(x0, x1, &vhi[d * L::VS2 + kp], &vlo[d * L::VS2 + kp]);
    }
  } else {
    float* ks = reinterpret_cast<float*>(smem + L::k_off);
    float* vs = reinterpret_cast<float*>(smem + L::v_off);
    for (int i = threadIdx.x; i < KT * HDP; i += blockDim.x) {
      const int key = i / HDP, d = i % HDP;
      const long long o = key_off[key];
      const bool ok = o >= 0 && d < head_dim;
      ks[key * L::QS + d] = ok ? k_cache[o + head + d] : 0.0f;
      vs[key * L::QS + d] = ok ? v_cache[o + head + d] : 0.0f;
    }
  }
}

// Scores of the warp's 16 rows (Q rows q_row0..q_row0+15 of the staged tile) against the 32 keys:
// s[j][0..1] row lane/4, keys j*8 + (lane%4)*2 + {0,1}; s[j][2..3] the same keys for row lane/4+8.
template <int HDP, bool TC, int ROWS, int WARPS>
__device__ __forceinline__ void tile_scores(const uint32_t* smem, int q_row0, float (&s)[kKeyTile / 8][4]) {
  using L = SmemLayout<HDP, TC, ROWS, WARPS>;
  constexpr int NKT = kKeyTile / 8;
  const int lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
#pragma unroll
  for (int j = 0; j < NKT; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
  if constexpr (TC) {
    const uint32_t* qhi = smem + L::q_off + (q_row0 + gq) * L::QS2 + tq;
    const uint32_t* qlo = qhi + ROWS * L::QS2;
    const uint32_t* khi = smem + L::k_off + gq * L::QS2 + tq;
    const uint32_t* klo = khi + kKeyTile * L::QS2;
#pragma unroll
    for (int kk = 0; kk < HDP / 16; ++kk) {
      const int c = kk * 8;
      const uint32_t ahi[4] = {qhi[c], qhi[8 * L::QS2 + c], qhi[c + 4], qhi[8 * L::QS2 + c + 4]};
      const uint32_t alo[4] = {qlo[c], qlo[8 * L::QS2 + c], qlo[c + 4], qlo[8 * L::QS2 + c + 4]};
#pragma unroll
      for (int j = 0; j < NKT; ++j) {
        const int r = j * 8 * L::QS2 + c;
        const uint32_t bhi[2] = {khi[r], khi[r + 4]};
        const uint32_t blo[2] = {klo[r], klo[r + 4]};
        mma_acc(s[j], alo, bhi);
        mma_acc(s[j], ahi, blo);
        mma_acc(s[j], ahi, bhi);
      }
    }
  } else {
    const float* qs = reinterpret_cast<const float*>(smem + L::q_off);
    const float* ks = reinterpret_cast<const float*>(smem + L::k_off);
#pragma unroll
    for (int j = 0; j < NKT; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float* qr = qs + (q_row0 + gq + 8 * (e >> 1)) * L::QS;
        const float* kr = ks + (j * 8 + 2 * tq + (e & 1)) * L::QS;
        float a = 0.0f;
#pragma unroll 16
        for (int d = 0; d < HDP; ++d) a = fmaf(qr[d], kr[d], a);
        s[j][e] = a;
      }
  }
}

// One online-softmax step for the lane's two rows (lane/4 and lane/4+8 of the warp's tile): mask
// keys outside [first[rr], last[rr]] and keys without a cache row, update m and l, rescale o, and
// leave the probabilities in s. A row with first > last is masked entirely.
template <int NTO>
__device__ __forceinline__ void softmax_step(float (&s)[kKeyTile / 8][4], float (&m)[2], float (&l)[2],
                                             float (&o)[NTO][4], int tile_base, const int (&first)[2],
                                             const int (&last)[2], const long long* key_off, float scale) {
  constexpr int NKT = kKeyTile / 8;
  const int tq = threadIdx.x & 3;
#pragma unroll
  for (int rr = 0; rr < 2; ++rr) {
    float mx = -INFINITY;
#pragma unroll
    for (int j = 0; j < NKT; ++j)
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const int key = j * 8 + 2 * tq + c, kp = tile_base + key;
        const bool keep = key_off[key] >= 0 && kp >= first[rr] && kp <= last[rr];
        const float v = keep ? mul_rn(s[j][2 * rr + c], scale) : -INFINITY;
        s[j][2 * rr + c] = v;
        mx = fmaxf(mx, v);
      }
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
    const float m_new = fmaxf(m[rr], mx);
    const float m_use = m_new == -INFINITY ? 0.0f : m_new;
    const float alpha = expf(m[rr] - m_use);
    float sum = 0.0f;
#pragma unroll
    for (int j = 0; j < NKT; ++j)
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const float p = expf(s[j][2 * rr + c] - m_use);
        s[j][2 * rr + c] = p;
        sum += p;
      }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
    l[rr] = fmaf(l[rr], alpha, sum);
    m[rr] = m_new;
#pragma unroll
    for (int n = 0; n < NTO; ++n) {
      o[n][2 * rr] = mul_rn(o[n][2 * rr], alpha);
      o[n][2 * rr + 1] = mul_rn(o[n][2 * rr + 1], alpha);
    }
  }
}

// o += P . V for output dimensions (n0 + n) * 8 .. +7, n < NTO; P in s (softmax_step's layout).
// `p_stage` is the warp's 16 x (kKeyTile + 4) f32 staging area (SIMT only).
template <int HDP, bool TC, int ROWS, int WARPS, int NTO>
__device__ __forceinline__ void tile_pv(uint32_t* smem, const float (&s)[kKeyTile / 8][4], float (&o)[NTO][4],
                                        int n0, float* p_stage) {
  using L = SmemLayout<HDP, TC, ROWS, WARPS>;
  const int lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
  if constexpr (TC) {
    const uint32_t* vhi = smem + L::v_off + (n0 * 8 + gq) * L::VS2 + tq;
    const uint32_t* vlo = vhi + HDP * L::VS2;
#pragma unroll
    for (int kk = 0; kk < kKeyTile / 16; ++kk) {
      uint32_t ahi[4], alo[4];
      split2(s[2 * kk][0], s[2 * kk][1], &ahi[0], &alo[0]);
      split2(s[2 * kk][2], s[2 * kk][3], &ahi[1], &alo[1]);
      split2(s[2 * kk + 1][0], s[2 * kk + 1][1], &ahi[2], &alo[2]);
      split2(s[2 * kk + 1][2], s[2 * kk + 1][3], &ahi[3], &alo[3]);
#pragma unroll
      for (int n = 0; n < NTO; ++n) {
        const int r = n * 8 * L::VS2 + kk * 8;
        const uint32_t bhi[2] = {vhi[r], vhi[r + 4]};
        const uint32_t blo[2] = {vlo[r], vlo[r + 4]};
        mma_acc(o[n], alo, bhi);
        mma_acc(o[n], ahi, blo);
        mma_acc(o[n], ahi, bhi);
      }
    }
  } else {
    const float* vs = reinterpret_cast<const float*>(smem + L::v_off);
#pragma unroll
    for (int j = 0; j < kKeyTile / 8; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) p_stage[(gq + 8 * (e >> 1)) * L::PS + j * 8 + 2 * tq + (e & 1)] = s[j][e];
    __syncwarp();
#pragma unroll
    for (int n = 0; n < NTO; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float* pr = p_stage + (gq + 8 * (e >> 1)) * L::PS;
        const float* vc = vs + (n0 + n) * 8 + 2 * tq + (e & 1);
        float a = o[n][e];
        for (int k = 0; k < kKeyTile; ++k) a = fmaf(pr[k], vc[k * L::QS], a);
        o[n][e] = a;
      }
    __syncwarp();
  }
}

// Folds a partition's (m, l) into the running (M, L) of a row; m must not be -inf. Returns false
// for the row's first partition (then O = o), else the weights: O = fmaf(O, *a, mul_rn(o, *b)).
__device__ __forceinline__ bool fold_scales(float* M, float* L, float m, float l, float* a, float* b) {
  if (*M == -INFINITY) {
    *M = m;
    *L = l;
    return false;
  }
  const float mn = fmaxf(*M, m);
  *a = expf(*M - mn);
  *b = expf(m - mn);
  *L = fmaf(*L, *a, mul_rn(l, *b));
  *M = mn;
  return true;
}

__device__ __forceinline__ float fold_value(bool folded, float O, float o, float a, float b) {
  return folded ? fmaf(O, a, mul_rn(o, b)) : o;
}

// The normalised output of a folded row (0 when it saw no key).
__device__ __forceinline__ float finalize(float O, float L) { return L > 0.0f ? O / L : 0.0f; }

}  // namespace xlam::cuda::attn
