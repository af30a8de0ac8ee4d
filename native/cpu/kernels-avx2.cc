// AVX2 + FMA kernels, 8-lane f32 accumulators: matmul in register tiles of 4 tokens x 3 weight rows
// (12 accumulators + 3 weight vectors + 1 token vector = the 16 ymm registers; bf16 weights
// widened in registers in 3 x 3 tiles), attention scores and weighted values.
// Compiled for AVX2 by a target pragma and only called when the CPU has it (kernels-isa.cc).
// Only intrinsics and functions with internal linkage live under the pragma, so no inline
// function of a shared header is ever emitted with AVX2 code.
#include <cstdint>
#include <cstring>

#include "kernels.h"
#include "target-region.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

XLAM_TARGET_BEGIN("avx2,fma,f16c")

namespace xlam::cpu {

namespace {

constexpr int kLanes = 8, kTokenTile = 4, kRowTile = 3;

// Fixed-order horizontal sum: 256 -> 128 -> 64 -> 32 bits.
inline float hsum(__m256 v) {
  __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
  return _mm_cvtss_f32(s1);
}

// Lanes [0, n) of a load mask.
inline __m256i tail_mask(int64_t n) {
  alignas(32) static const int32_t ramp[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(n)),
                            _mm256_load_si256(reinterpret_cast<const __m256i*>(ramp)));
}

// M tokens x N rows, full n_in: acc[m][n] += x[m, k..k+8) * w[n, k..k+8), then a masked tail.
template <int M, int N>
void tile(float* out, int64_t ldo, const float* x, const float* w, int64_t n_in) {
  __m256 acc[M][N];
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) acc[m][n] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + kLanes <= n_in; k += kLanes) {
    __m256 wv[N];
    for (int n = 0; n < N; ++n) wv[n] = _mm256_loadu_ps(w + n * n_in + k);
    for (int m = 0; m < M; ++m) {
      const __m256 xv = _mm256_loadu_ps(x + m * n_in + k);
      for (int n = 0; n < N; ++n) acc[m][n] = _mm256_fmadd_ps(xv, wv[n], acc[m][n]);
    }
  }
  if (k < n_in) {
    const __m256i mask = tail_mask(n_in - k);
    __m256 wv[N];
    for (int n = 0; n < N; ++n) wv[n] = _mm256_maskload_ps(w + n * n_in + k, mask);
    for (int m = 0; m < M; ++m) {
      const __m256 xv = _mm256_maskload_ps(x + m * n_in + k, mask);
      for (int n = 0; n < N; ++n) acc[m][n] = _mm256_fmadd_ps(xv, wv[n], acc[m][n]);
    }
  }
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) out[m * ldo + n] = hsum(acc[m][n]);
}

template <int N>
void rows(float* out, int64_t ldo, const float* x, int64_t n_tokens, const float* w, int64_t n_in) {
  int64_t t = 0;
  for (; t + kTokenTile <= n_tokens; t += kTokenTile) tile<kTokenTile, N>(out + t * ldo, ldo, x + t * n_in, w, n_in);
  float* o = out + t * ldo;
  const float* xt = x + t * n_in;
  switch (n_tokens - t) {
    case 3: tile<3, N>(o, ldo, xt, w, n_in); break;
    case 2: tile<2, N>(o, ldo, xt, w, n_in); break;
    case 1: tile<1, N>(o, ldo, xt, w, n_in); break;
    default: break;
  }
}

void panel(float* out, int64_t ldo, const float* x, int64_t n_tokens, const float* w, int64_t n_rows,
           int64_t n_in) {
  int64_t r = 0;
  for (; r + kRowTile <= n_rows; r += kRowTile) rows<kRowTile>(out + r, ldo, x, n_tokens, w + r * n_in, n_in);
  if (n_rows - r == 2) rows<2>(out + r, ldo, x, n_tokens, w + r * n_in, n_in);
  if (n_rows - r == 1) rows<1>(out + r, ldo, x, n_tokens, w + r * n_in, n_in);
}

// bf16 [n] (n < 16) zero-padded to 16 lanes.
__m256i load_partial(const uint16_t* src, int64_t n) {
  alignas(32) uint16_t part[16] = {};
  std::memcpy(part, src, static_cast<size_t>(n) * 2);
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(part));
}

// The fused bf16 tile: each 16-weight block of a row is loaded once and widened to f32 by
// interleaving with zeros (the bf16 bits become the high half of each lane): the low half of the
// block holds k = 8*(j/4) + j%4, the high half the same + 4; xi holds x in that order.
// 3 tokens x 3 rows: 9 accumulators + 3 widened + x + zero fit the 16 registers.
template <int M, int N>
void tile_bf16(float* out, int64_t ldo, const float* xi, int64_t ldx, const uint16_t* w, int64_t n_in,
               const uint16_t* prefetch) {
  constexpr int kBlock = 2 * kLanes;
  __m256 acc[M][N];
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) acc[m][n] = _mm256_setzero_ps();
  const __m256i zero = _mm256_setzero_si256();
  auto step = [&](const __m256i* raw, int64_t k) {
    for (int half = 0; half < 2; ++half) {
      __m256 wv[N];
      for (int n = 0; n < N; ++n)
        wv[n] = _mm256_castsi256_ps(half == 0 ? _mm256_unpacklo_epi16(zero, raw[n]) : _mm256_unpackhi_epi16(zero, raw[n]));
      for (int m = 0; m < M; ++m) {
        const __m256 xv = _mm256_loadu_ps(xi + m * ldx + k + half * kLanes);
        for (int n = 0; n < N; ++n) acc[m][n] = _mm256_fmadd_ps(xv, wv[n], acc[m][n]);
      }
    }
  };
  int64_t k = 0;
  for (; k + kBlock <= n_in; k += kBlock) {
    __m256i raw[N];
    for (int n = 0; n < N; ++n) {
      if (prefetch && k % 32 == 0) _mm_prefetch(reinterpret_cast<const char*>(prefetch + n * n_in + k), _MM_HINT_T0);
      raw[n] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + n * n_in + k));
    }
    step(raw, k);
  }
  if (k < n_in) {  // a partial last block, from zero-padded copies
    __m256i raw[N];
    for (int n = 0; n < N; ++n) raw[n] = load_partial(w + n * n_in + k, n_in - k);
    step(raw, k);
  }
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) out[m * ldo + n] = hsum(acc[m][n]);
}

constexpr int kBf16TokenTile = 3, kBf16RowTile = 3;

template <int N>
void rows_bf16(float* out, int64_t ldo, const float* xi, int64_t ldx, int64_t n_tokens, const uint16_t* w,
               int64_t n_in) {
  // The first token tile brings the next rows' weights in while it computes: the weights stream
  // from memory once per call, and later token tiles find them in cache.
  const uint16_t* next = w + N * n_in;  // prefetch never faults, even past the matrix
  int64_t t = 0;
  for (; t + kBf16TokenTile <= n_tokens; t += kBf16TokenTile, next = nullptr)
    tile_bf16<kBf16TokenTile, N>(out + t * ldo, ldo, xi + t * ldx, ldx, w, n_in, next);
  if (n_tokens - t == 2) tile_bf16<2, N>(out + t * ldo, ldo, xi + t * ldx, ldx, w, n_in, next);
  if (n_tokens - t == 1) tile_bf16<1, N>(out + t * ldo, ldo, xi + t * ldx, ldx, w, n_in, next);
}

void panel_bf16(float* out, int64_t ldo, const void* xp, int64_t n_tokens, const uint16_t* w, int64_t n_rows,
                int64_t n_in) {
  const float* xi = static_cast<const float*>(xp);  // interleave_x_16
  const int64_t ldx = (n_in + 2 * kLanes - 1) / (2 * kLanes) * (2 * kLanes);
  int64_t r = 0;
  for (; r + kBf16RowTile <= n_rows; r += kBf16RowTile)
    rows_bf16<kBf16RowTile>(out + r, ldo, xi, ldx, n_tokens, w + r * n_in, n_in);
  if (n_rows - r == 2) rows_bf16<2>(out + r, ldo, xi, ldx, n_tokens, w + r * n_in, n_in);
  if (n_rows - r == 1) rows_bf16<1>(out + r, ldo, xi, ldx, n_tokens, w + r * n_in, n_in);
}

// Scores: the k row is read once for the whole group; each dot product runs over head_dim in
// lane-wide steps (a masked last step) into one accumulator, then the fixed-order sum.
void qk(float* s, int64_t ld_s, const float* q, int64_t group, const float* k, int64_t k_stride, int64_t n_pos,
        int64_t head_dim, float scale) {
  const int64_t full = head_dim / kLanes * kLanes;
  const __m256i tail = tail_mask(head_dim % kLanes);
  for (int64_t p = 0; p < n_pos; ++p) {
    const float* kr = k + p * k_stride;
    for (int64_t h = 0; h < group; ++h) {
      const float* qh = q + h * head_dim;
      __m256 acc = _mm256_setzero_ps();
      for (int64_t i = 0; i < full; i += kLanes) acc = _mm256_fmadd_ps(_mm256_loadu_ps(qh + i), _mm256_loadu_ps(kr + i), acc);
      if (full < head_dim) acc = _mm256_fmadd_ps(_mm256_maskload_ps(qh + full, tail), _mm256_maskload_ps(kr + full, tail), acc);
      s[h * ld_s + p] = hsum(acc) * scale;
    }
  }
}

// R vectors of one head's output row, held in registers while the value rows pass.
template <int R>
void pv_chunk(float* o, const float* w, const float* v, int64_t v_stride, int64_t n_pos) {
  __m256 acc[R];
  for (int j = 0; j < R; ++j) acc[j] = _mm256_loadu_ps(o + j * kLanes);
  for (int64_t p = 0; p < n_pos; ++p) {
    const __m256 wp = _mm256_set1_ps(w[p]);
    const float* vr = v + p * v_stride;
    for (int j = 0; j < R; ++j) acc[j] = _mm256_fmadd_ps(wp, _mm256_loadu_ps(vr + j * kLanes), acc[j]);
  }
  for (int j = 0; j < R; ++j) _mm256_storeu_ps(o + j * kLanes, acc[j]);
}

// Weighted values, one head at a time; each output element accumulates over p in order.
void pv(float* o, const float* w, int64_t ld_w, int64_t group, const float* v, int64_t v_stride, int64_t n_pos,
        int64_t head_dim) {
  const int64_t full = head_dim / kLanes * kLanes;
  const __m256i tail = tail_mask(head_dim % kLanes);
  for (int64_t h = 0; h < group; ++h) {
    float* oh = o + h * head_dim;
    const float* wh = w + h * ld_w;
    int64_t c = 0;
    for (; c + 8 * kLanes <= full; c += 8 * kLanes) pv_chunk<8>(oh + c, wh, v + c, v_stride, n_pos);
    switch ((full - c) / kLanes) {
      case 7: pv_chunk<7>(oh + c, wh, v + c, v_stride, n_pos); break;
      case 6: pv_chunk<6>(oh + c, wh, v + c, v_stride, n_pos); break;
      case 5: pv_chunk<5>(oh + c, wh, v + c, v_stride, n_pos); break;
      case 4: pv_chunk<4>(oh + c, wh, v + c, v_stride, n_pos); break;
      case 3: pv_chunk<3>(oh + c, wh, v + c, v_stride, n_pos); break;
      case 2: pv_chunk<2>(oh + c, wh, v + c, v_stride, n_pos); break;
      case 1: pv_chunk<1>(oh + c, wh, v + c, v_stride, n_pos); break;
      default: break;
    }
    if (full < head_dim) {
      __m256 acc = _mm256_maskload_ps(oh + full, tail);
      for (int64_t p = 0; p < n_pos; ++p) acc = _mm256_fmadd_ps(_mm256_set1_ps(wh[p]), _mm256_maskload_ps(v + p * v_stride + full, tail), acc);
      _mm256_maskstore_ps(oh + full, tail, acc);
    }
  }
}

// f16 weight rows to f32 (exact, subnormals included); bf16 ones go through panel_bf16.
void convert(float* dst, const void* src, DType /*dtype: f16*/, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
  if (i < n) {
    alignas(16) uint16_t tail[kLanes] = {};
    std::memcpy(tail, s + i, static_cast<size_t>(n - i) * 2);
    alignas(32) float f[kLanes];
    _mm256_store_ps(f, _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tail))));
    std::memcpy(dst + i, f, static_cast<size_t>(n - i) * 4);
  }
}

const Kernels kAvx2{convert, panel, interleaved_x_bytes_16, interleave_x_16, panel_bf16, kTokenTile, kRowTile, kTokenTile, kRowTile, qk, pv};

}  // namespace

}  // namespace xlam::cpu

XLAM_TARGET_END

namespace xlam::cpu {
const Kernels* kernels_avx2() { return &kAvx2; }
}  // namespace xlam::cpu

#else  // not x86-64 with GCC or Clang

namespace xlam::cpu {
const Kernels* kernels_avx2() { return nullptr; }
}  // namespace xlam::cpu

#endif
