// sample (backend.h) on the device, as cpu/sample-rows.cc (the engine's host sampler,
// draw_from_logits in native/src/sample.cc): one block per row, the branch taken per row.
//   - greedy: a block argmax (lowest id on ties; any NaN: -1). Exact.
//   - unfiltered draw (no top-k, top-p or min-p): the host's algorithm with its arithmetic
//     (sample-math.h: the same float weights, whose *_rn products nvcc cannot contract, summed in
//     double per 256-token block in the host's order, then walked by one thread as the host walks
//     them), so the token is the host's bit for bit.
//   - filtered draw: the host sorts; here the kept set and the drawn token are found without a sort
//     as positions in the sorted order (logit descending, id ascending): a radix select over the
//     logit's order-preserving 32-bit key (four 8-bit passes of histograms), then the id among
//     equal logits. Top-k selects by count, top-p and the draw by probability mass; masses are
//     128-bit fixed point (2^-96 units) summed with integer atomics, so every sum is exact and
//     independent of the order threads add in. The token differs from the host's (which sums in
//     double in sorted order, with the C library's exp) only where the draw, or a top-p / min-p
//     cut, falls within double rounding of a boundary between two tokens.
// Every reduction has a fixed result whatever the thread order, so the token never depends on the
// schedule; rows share nothing but the launch.
#include <climits>
#include <cstdint>

#include "../native/src/philox.h"
#include "../native/src/sample-math.h"
#include "common/gpu-compat.h"
#include "ops.h"

namespace xlam::cuda {

namespace {

// Threads per block: a multiple of 32 from 32 to kMaxThreads, about 16 tokens per thread (block_threads).
constexpr int kMaxThreads = 256;
constexpr int kMaxWarps = kMaxThreads / 32;
constexpr int kBins = 256;  // 8-bit radix digits
constexpr unsigned kFull = 0xffffffffu;
constexpr int kBlockSize = static_cast<int>(kDrawBlock);  // tokens per block sum of the unfiltered draw

using u64 = unsigned long long;
using u128 = unsigned __int128;

// The block's shared state: radix histograms and reduction slots.
struct Shared {
  uint32_t count[kBins];   // tokens per bin
  u64 mass_hi[kBins];      // mass per bin, 128-bit fixed point: high and low words
  u64 mass_lo[kBins];
  u64 red_a[kMaxWarps];    // per-warp partials of a reduction
  u64 red_b[kMaxWarps];
  uint32_t bin;            // the bin a select pass chose
  u64 above_hi, above_lo;  // the amount ahead of it
  int32_t id;              // a token found by one thread
};

// A set of candidates that is a prefix of the sorted order: the tokens with key > key, or with
// key == key and id <= id.
struct Cut {
  uint32_t key;
  int32_t id;
};

template <typename T>
__device__ __forceinline__ T lesser(T a, T b) {
  return b < a ? b : a;
}

__device__ __forceinline__ int n_warps() { return static_cast<int>(blockDim.x / 32); }

__device__ __forceinline__ bool is_candidate(float l) { return l == l && l != -INFINITY; }

// The order-preserving key of a non-NaN logit (-0 and +0 equal): a larger logit has a larger key.
__device__ __forceinline__ uint32_t key_of(float l) {
  const uint32_t b = __float_as_uint(l == 0.0f ? 0.0f : l);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}
__device__ __forceinline__ float logit_of(uint32_t key) {
  return __uint_as_float((key & 0x80000000u) ? (key & 0x7fffffffu) : ~key);
}
__device__ __forceinline__ bool in_cut(uint32_t key, int id, Cut c) {
  return key > c.key || (key == c.key && id <= c.id);
}

__device__ __forceinline__ u128 make_u128(u64 hi, u64 lo) { return (static_cast<u128>(hi) << 64) | lo; }
// A mass in [0, 2^31] as 128-bit fixed point with 2^-96 units (bits below 2^-96 dropped).
__device__ __forceinline__ u128 to_fixed(double w) {
  const double x = mul_rn(w, 4294967296.0);  // 2^32: exact
  const u64 hi = static_cast<u64>(x);
  const double frac = sub_rn(x, static_cast<double>(hi));  // exact
  return make_u128(hi, static_cast<u64>(mul_rn(frac, 18446744073709551616.0)));
}
__device__ __forceinline__ double to_double(u128 v) {
  return static_cast<double>(static_cast<u64>(v >> 64)) * 2.3283064365386963e-10 +  // 2^-32
         static_cast<double>(static_cast<u64>(v)) * 1.2621774483536189e-29;          // 2^-96
}

__device__ __forceinline__ u128 shfl_xor_u128(u128 v, int m) {
  return make_u128(__shfl_xor_sync(kFull, static_cast<u64>(v >> 64), m), __shfl_xor_sync(kFull, static_cast<u64>(v), m));
}
__device__ __forceinline__ u128 shfl_up_u128(u128 v, unsigned d) {
  return make_u128(__shfl_up_sync(kFull, static_cast<u64>(v >> 64), d), __shfl_up_sync(kFull, static_cast<u64>(v), d));
}

// Exact sum over the block (integers: any order gives the same sum). Every thread gets it.
__device__ u128 block_sum(u128 v, Shared& sh) {
  for (int m = 16; m > 0; m >>= 1) v += shfl_xor_u128(v, m);
  const int warp = threadIdx.x / 32;
  if (threadIdx.x % 32 == 0) {
    sh.red_a[warp] = static_cast<u64>(v >> 64);
    sh.red_b[warp] = static_cast<u64>(v);
  }
  __syncthreads();
  u128 s = 0;
  for (int w = 0; w < n_warps(); ++w) s += make_u128(sh.red_a[w], sh.red_b[w]);
  __syncthreads();  // the slots are reused by the next reduction
  return s;
}

// Maximum (NaN never wins) and minimum of a u32, over the block.
__device__ float block_max(float v, Shared& sh) {
  for (int m = 16; m > 0; m >>= 1) {
    const float o = __shfl_xor_sync(kFull, v, m);
    v = o > v ? o : v;
  }
  if (threadIdx.x % 32 == 0) sh.red_a[threadIdx.x / 32] = __float_as_uint(v);
  __syncthreads();
  float best = -INFINITY;
  for (int w = 0; w < n_warps(); ++w) {
    const float o = __uint_as_float(static_cast<uint32_t>(sh.red_a[w]));
    best = o > best ? o : best;
  }
  __syncthreads();
  return best;
}
__device__ uint32_t block_min(uint32_t v, Shared& sh) {
  for (int m = 16; m > 0; m >>= 1) v = lesser(v, __shfl_xor_sync(kFull, v, m));
  if (threadIdx.x % 32 == 0) sh.red_a[threadIdx.x / 32] = v;
  __syncthreads();
  uint32_t best = UINT_MAX;
  for (int w = 0; w < n_warps(); ++w) best = lesser(best, static_cast<uint32_t>(sh.red_a[w]));
  __syncthreads();
  return best;
}

// (value, id) ordering of greedy: the larger value, then the lower id.
__device__ __forceinline__ bool better(float v, int id, float bv, int bid) { return v > bv || (v == bv && id < bid); }

// Greedy: argmax, lowest id on ties; -1 if any logit is NaN or every logit is -inf.
__device__ int32_t greedy(const float* l,  // f32 [n_vocab]
                          int n_vocab, Shared& sh) {
  float best = -INFINITY;
  int best_id = INT_MAX;
  int nan = 0;
  for (int i = threadIdx.x; i < n_vocab; i += blockDim.x) {
    const float x = l[i];
    if (x != x) nan = 1;
    else if (better(x, i, best, best_id)) best = x, best_id = i;
  }
  for (int m = 16; m > 0; m >>= 1) {
    const float o = __shfl_xor_sync(kFull, best, m);
    const int oid = __shfl_xor_sync(kFull, best_id, m);
    if (better(o, oid, best, best_id)) best = o, best_id = oid;
  }
  if (threadIdx.x % 32 == 0) {
    sh.red_a[threadIdx.x / 32] = __float_as_uint(best);
    sh.red_b[threadIdx.x / 32] = static_cast<uint32_t>(best_id);
  }
  nan = __syncthreads_or(nan);
  for (int w = 0; w < n_warps(); ++w) {
    const float o = __uint_as_float(static_cast<uint32_t>(sh.red_a[w]));
    const int oid = static_cast<int>(static_cast<uint32_t>(sh.red_b[w]));
    if (better(o, oid, best, best_id)) best = o, best_id = oid;
  }
  return nan || !(best > -INFINITY) ? -1 : best_id;
}

// The draw without top-k, top-p or min-p: sample.cc's draw_unfiltered. The 256-token block sums
// are computed by four lanes each, in the host's order (lane j: ids = j mod 4; the tail on lane 0;
// (l0 + l1) + (l2 + l3)) into `sums`; one thread then walks them and the chosen block as the host
// does. Returns the token on thread 0.
__device__ int32_t draw_unfiltered(const float* l,  // f32 [n_vocab]
                                   int n_vocab,
                                   double* sums,  // f64 [n_blocks] scratch
                                   int n_blocks, float inv_t, double x, Shared& sh) {
  float best = -INFINITY;
  for (int i = threadIdx.x; i < n_vocab; i += blockDim.x) best = l[i] > best ? l[i] : best;
  best = block_max(best, sh);
  if (!(best > -INFINITY)) return -1;
  const float top = mul_rn(best, inv_t);
  const int lane = threadIdx.x % 32, q = lane % 4;
  for (int base = 0; base < n_blocks; base += n_warps() * 8) {  // uniform: every lane shuffles
    const int b = base + (threadIdx.x / 32) * 8 + lane / 4;
    double part = 0;
    if (b < n_blocks) {
      const int start = b * kBlockSize, end = lesser(n_vocab, start + kBlockSize);
      const int full = start + (end - start) / 4 * 4;
      for (int i = start + q; i < full; i += 4) part += draw_weight(l[i], inv_t, top);
      if (q == 0)
        for (int i = full; i < end; ++i) part += draw_weight(l[i], inv_t, top);
    }
    const double pair = part + __shfl_down_sync(kFull, part, 1);  // q 0: l0 + l1, q 2: l2 + l3
    const double s = pair + __shfl_down_sync(kFull, pair, 2);     // q 0: (l0 + l1) + (l2 + l3)
    if (q == 0 && b < n_blocks) sums[b] = s;
  }
  __syncthreads();  // the block sums are visible to thread 0
  if (threadIdx.x != 0) return -1;
  double total = 0;
  for (int b = 0; b < n_blocks; ++b) total += sums[b];
  const double u = x * total;
  double acc = 0;
  int b = 0;
  while (b + 1 < n_blocks && (sums[b] == 0 || u >= acc + sums[b])) acc += sums[b++];
  int32_t last = -1;
  for (int i = b * kBlockSize, e = lesser(n_vocab, i + kBlockSize); i < e; ++i) {
    const float w = draw_weight(l[i], inv_t, top);
    if (w == 0) continue;
    acc += w;
    last = i;
    if (u < acc) return last;
  }
  if (last >= 0) return last;
  // Rounding left u past every block: the last weighted token (in the last block weighing > 0).
  for (int c = n_blocks; c-- > 0;) {
    if (!(sums[c] > 0)) continue;
    for (int i = lesser(n_vocab, (c + 1) * kBlockSize); i-- > c * kBlockSize;)
      if (draw_weight(l[i], inv_t, top) > 0) return i;
  }
  return -1;
}

// The filtered draw's weights.
struct Weights {
  double inv_t, top;
  __device__ u128 fixed(float l) const { return to_fixed(filtered_weight(l, inv_t, top)); }
};

// The kMass == false / true amount of a token: 1, or its weight in fixed point.
template <bool kMass>
__device__ __forceinline__ u128 bin_amount(const Shared& sh, int bin) {
  if (kMass) return make_u128(sh.mass_hi[bin], sh.mass_lo[bin]);
  return sh.count[bin];
}

// The `j`-th (1-based) token in id order among those of `cut` with key `key`. Every thread gets it.
__device__ int32_t nth_with_key(const float* l,  // f32 [n_vocab]
                                int n_vocab, Cut cut, uint32_t key, u64 j, Shared& sh) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int seg = (n_vocab + blockDim.x - 1) / blockDim.x * 32;  // ids per warp, a multiple of 32
  const int start = warp * seg, end = lesser(n_vocab, start + seg);
  auto match = [&](int i) {
    if (i >= end) return false;
    const float x = l[i];
    return is_candidate(x) && key_of(x) == key && in_cut(key, i, cut);
  };
  u64 n = 0;
  for (int base = start; base < end; base += 32) n += __popc(__ballot_sync(kFull, match(base + lane)));
  if (lane == 0) sh.red_a[warp] = n;
  if (threadIdx.x == 0) sh.id = -1;  // (unreachable: some warp holds the j-th)
  __syncthreads();
  u64 before = 0;
  for (int w = 0; w < warp; ++w) before += sh.red_a[w];
  if (before < j && j <= before + n) {  // this warp holds it
    for (int base = start; base < end; base += 32) {
      const bool m = match(base + lane);
      const unsigned bits = __ballot_sync(kFull, m);
      const u64 c = static_cast<u64>(__popc(bits));
      if (before + c >= j) {
        if (m && before + static_cast<u64>(__popc(bits & ((1u << lane) - 1u))) + 1 == j) sh.id = base + lane;
        break;
      }
      before += c;
    }
  }
  __syncthreads();
  const int32_t id = sh.id;
  __syncthreads();
  return id;
}

// The token of `cut` at the first position (sorted order) where the running amount (kMass: the
// weights in fixed point; else 1 per token) reaches `target` (>= 1, at most the cut's total).
// Returns it as the cut ending there.
template <bool kMass>
__device__ Cut select(const float* l,  // f32 [n_vocab]
                      int n_vocab, Cut cut, u128 target, const Weights& wt, Shared& sh) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  uint32_t prefix = 0;
  u128 above = 0;
  for (int pass = 0; pass < 4; ++pass) {
    const int shift = 24 - 8 * pass;
    for (int b = threadIdx.x; b < kBins; b += blockDim.x) {
      sh.count[b] = 0;
      sh.mass_hi[b] = 0;
      sh.mass_lo[b] = 0;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < n_vocab; i += blockDim.x) {
      const float x = l[i];
      if (!is_candidate(x)) continue;
      const uint32_t key = key_of(x);
      if (!in_cut(key, i, cut) || (pass > 0 && (key >> (shift + 8)) != prefix)) continue;
      const uint32_t bin = (key >> shift) & 0xffu;
      atomicAdd(&sh.count[bin], 1u);
      if (kMass) {  // 128 bits from two 64-bit atomics: the carry of the low word goes to the high
        const u128 a = wt.fixed(x);
        const u64 lo = static_cast<u64>(a), hi = static_cast<u64>(a >> 64);
        const u64 old = atomicAdd(&sh.mass_lo[bin], lo);
        const u64 carry = old + lo < old ? 1 : 0;
        if (hi + carry) atomicAdd(&sh.mass_hi[bin], hi + carry);
      }
    }
    __syncthreads();
    if (warp == 0) {  // lane L scans bins 255 - 8L down to 248 - 8L
      u128 mine = 0;
      for (int k = 0; k < 8; ++k) mine += bin_amount<kMass>(sh, kBins - 1 - 8 * lane - k);
      u128 incl = mine;
      for (unsigned d = 1; d < 32; d <<= 1) {
        const u128 o = shfl_up_u128(incl, d);
        if (lane >= static_cast<int>(d)) incl += o;
      }
      const unsigned reach = __ballot_sync(kFull, above + incl >= target);
      // Some lane reaches it: the target is at most the cut's total, and each pass narrows to a
      // bin holding what is left of it. (Defensively, lane 31's last non-empty bin otherwise.)
      const int first = reach ? __ffs(static_cast<int>(reach)) - 1 : 31;
      if (lane == first) {
        u128 acc = above + incl - mine;
        int chosen = -1;
        for (int k = 0; k < 8; ++k) {
          const int b = kBins - 1 - 8 * lane - k;
          const u128 a = bin_amount<kMass>(sh, b);
          if (sh.count[b] > 0) chosen = b;
          if (sh.count[b] > 0 && acc + a >= target) break;
          acc += a;
        }
        if (chosen < 0) chosen = 0;  // (unreachable: the target never exceeds the cut's total)
        sh.bin = static_cast<uint32_t>(chosen);
        sh.above_hi = static_cast<u64>(acc >> 64);
        sh.above_lo = static_cast<u64>(acc);
      }
    }
    __syncthreads();
    prefix = (prefix << 8) | sh.bin;
    above = make_u128(sh.above_hi, sh.above_lo);
    __syncthreads();  // sh.bin is rewritten by the next pass
  }
  // Every token with this key weighs the same: the j-th of them in id order reaches the target.
  const u128 each = kMass ? wt.fixed(logit_of(prefix)) : u128(1);
  u128 j = each > 0 && target > above ? (target - above + each - 1) / each : 1;
  if (j == 0) j = 1;
  const u64 n_key = sh.count[prefix & 0xffu];
  if (j > n_key) j = n_key;  // the target exceeded the total: the last token
  return Cut{prefix, nth_with_key(l, n_vocab, cut, prefix, static_cast<u64>(j), sh)};
}

// Tokens of `cut`, and their weights' exact sum.
__device__ u128 cut_mass(const float* l,  // f32 [n_vocab]
                         int n_vocab, Cut cut, const Weights& wt, Shared& sh) {
  u128 s = 0;
  for (int i = threadIdx.x; i < n_vocab; i += blockDim.x) {
    const float x = l[i];
    if (is_candidate(x) && in_cut(key_of(x), i, cut)) s += wt.fixed(x);
  }
  return block_sum(s, sh);
}
__device__ u64 cut_count(const float* l,  // f32 [n_vocab]
                         int n_vocab, Cut cut, Shared& sh) {
  u128 n = 0;
  for (int i = threadIdx.x; i < n_vocab; i += blockDim.x) {
    const float x = l[i];
    if (is_candidate(x) && in_cut(key_of(x), i, cut)) n += 1;
  }
  return static_cast<u64>(block_sum(n, sh));
}

// Temperature, top-k, top-p, min-p and the draw `x` (sample.cc's filtered path). Every thread
// gets the token.
__device__ int32_t draw_filtered(const float* l,  // f32 [n_vocab]
                                 int n_vocab, double inv_t, int32_t top_k, float top_p, float min_p, double x,
                                 Shared& sh) {
  float best = -INFINITY;
  u128 n = 0;
  for (int i = threadIdx.x; i < n_vocab; i += blockDim.x) {
    const float v = l[i];
    if (!is_candidate(v)) continue;
    n += 1;
    best = v > best ? v : best;
  }
  const u64 n_cand = static_cast<u64>(block_sum(n, sh));
  best = block_max(best, sh);
  if (n_cand == 0) return -1;
  const Weights wt{inv_t, mul_rn(static_cast<double>(best), inv_t)};
  Cut cut{0, INT_MAX};  // every candidate (a candidate's key is > 0)
  if (top_k > 0 && static_cast<u64>(top_k) < n_cand) cut = select<false>(l, n_vocab, cut, u128(top_k), wt, sh);
  const u128 z = cut_mass(l, n_vocab, cut, wt, sh);  // the host's `sum`: what probabilities divide by
  if (top_p < 1) {  // the smallest prefix whose mass reaches top_p (at least one token)
    u128 t = to_fixed(mul_rn(static_cast<double>(top_p), to_double(z)));
    if (t > z) t = z;
    if (t == 0) t = 1;
    cut = select<true>(l, n_vocab, cut, t, wt, sh);
  }
  if (min_p > 0) {  // tokens with probability >= min_p * the best one's: a key threshold
    const double zd = to_double(z);
    const double floor = static_cast<double>(min_p) * (1.0 / zd);
    uint32_t lowest = UINT_MAX;
    for (int i = threadIdx.x; i < n_vocab; i += blockDim.x) {
      const float v = l[i];
      if (!is_candidate(v)) continue;
      const uint32_t key = key_of(v);
      if (in_cut(key, i, cut) && filtered_weight(v, inv_t, wt.top) / zd >= floor) lowest = lesser(lowest, key);
    }
    lowest = block_min(lowest, sh);
    if (lowest != UINT_MAX && lowest > cut.key) cut = Cut{lowest, INT_MAX};
  }
  const u128 kept = cut_mass(l, n_vocab, cut, wt, sh);
  const u128 target = to_fixed(mul_rn(x, to_double(kept))) + 1;  // the first position whose mass exceeds u
  if (target > kept) return select<false>(l, n_vocab, cut, u128(cut_count(l, n_vocab, cut, sh)), wt, sh).id;
  return select<true>(l, n_vocab, cut, target, wt, sh).id;
}

__global__ void __launch_bounds__(kMaxThreads)
    sample_rows_kernel(int32_t* out,          // i32 [n_rows]
                       const float* logits,   // f32 [n_rows, n_vocab]
                       const float* params,   // f32 [n_rows, 4]: temperature, top_p, min_p, top_k
                       const int32_t* rng,    // i32 [n_rows, 4]: seed lo, seed hi, step lo, step hi
                       double* block_sums,    // f64 [n_rows, n_blocks] scratch of the unfiltered draw
                       int n_vocab, int n_blocks) {
  __shared__ Shared sh;
  const int64_t row = blockIdx.x;
  const float* l = logits + row * n_vocab;
  const float temperature = params[4 * row], top_p = params[4 * row + 1], min_p = params[4 * row + 2];
  const float top_k = params[4 * row + 3];
  int32_t token;
  // Every branch below is uniform over the block (it depends on the row only).
  if (!draw_params_valid(temperature, top_p, min_p, top_k)) {
    token = -2;
  } else if (n_vocab == 0) {
    token = -1;
  } else if (temperature == 0) {
    token = greedy(l, n_vocab, sh);
  } else {
    auto u64_of = [](int32_t lo, int32_t hi) {
      return static_cast<uint64_t>(static_cast<uint32_t>(lo)) | static_cast<uint64_t>(static_cast<uint32_t>(hi)) << 32;
    };
    const double x = philox_uniform(u64_of(rng[4 * row], rng[4 * row + 1]), u64_of(rng[4 * row + 2], rng[4 * row + 3]));
    const double inv_t = 1.0 / static_cast<double>(temperature);
    const int32_t k = top_k_of(top_k);
    if (k == 0 && top_p >= 1 && min_p == 0)
      token = draw_unfiltered(l, n_vocab, block_sums + row * n_blocks, n_blocks, static_cast<float>(inv_t), x, sh);
    else
      token = draw_filtered(l, n_vocab, inv_t, k, top_p, min_p, x, sh);
  }
  if (threadIdx.x == 0) out[row] = token;
}

// About 16 tokens per thread, in whole warps, 32 to kMaxThreads.
int block_threads(int64_t n_vocab) {
  const int64_t warps = (n_vocab + 16 * 32 - 1) / (16 * 32);
  return static_cast<int>(warps < 1 ? 32 : warps > kMaxWarps ? kMaxThreads : warps * 32);
}

}  // namespace

Status sample(const Context& ctx, const Tensor& out,  // i32 [n_rows]
              const Tensor& logits,                    // f32 [n_rows, n_vocab], may be overwritten
              const Tensor& params,                    // f32 [n_rows, 4]: temperature, top_p, min_p, top_k
              const Tensor& rng) {                     // i32 [n_rows, 4]: seed lo, seed hi, step lo, step hi
  const char* op = "sample";
  XLAM_TRY(check_sample(out, logits, params, rng));
  const int64_t n_rows = logits.shape[0], n_vocab = logits.shape[1];
  XLAM_TRY(expect(n_rows <= INT32_MAX, op, "at most 2^31 - 1 rows"));
  if (n_rows == 0) return Status::Ok();
  const int64_t n_blocks = (n_vocab + kBlockSize - 1) / kBlockSize;
  void* sums = nullptr;
  XLAM_TRY(scratch(ctx, static_cast<size_t>(n_rows * (n_blocks > 0 ? n_blocks : 1)) * sizeof(double), &sums));
  const cudaError_t err =
      gpu::launch(sample_rows_kernel, dim3(static_cast<unsigned>(n_rows)), dim3(block_threads(n_vocab)), 0, ctx.stream,
                  static_cast<int32_t*>(out.data), static_cast<const float*>(logits.data),
                  static_cast<const float*>(params.data), static_cast<const int32_t*>(rng.data),
                  static_cast<double*>(sums), static_cast<int>(n_vocab), static_cast<int>(n_blocks));
  return launch_status(err, op);
}

}  // namespace xlam::cuda
