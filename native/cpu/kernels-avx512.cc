// AVX-512 (F + BW) kernels, 16-lane f32 accumulators: matmul in register tiles of 8 tokens x 3
// weight rows (bf16 weights widened in registers), attention scores and weighted values.
// Compiled for AVX-512 by a target pragma and only called when the CPU has it (kernels-isa.cc).
// Only intrinsics and functions with internal linkage live under the pragma, so no inline
// function of a shared header is ever emitted with AVX-512 code.
#include <cstdint>
#include <cstring>

#include "kernels.h"
#include "target-region.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

XLAM_TARGET_AVX512_BEGIN

namespace xlam::cpu {

namespace {

constexpr int kLanes = 16, kTokenTile = 8, kRowTile = 3;

// Fixed-order horizontal sum: 512 -> 256 -> 128 -> 64 -> 32 bits.
inline float hsum(__m512 v) {
  __m256 lo = _mm512_castps512_ps256(v);
  __m256 hi = _mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, 0xee));  // lanes 8..15
  __m256 s8 = _mm256_add_ps(lo, hi);
  __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
  return _mm_cvtss_f32(s1);
}

// M tokens x N rows, full n_in: acc[m][n] += x[m, k..k+16) * w[n, k..k+16), then a masked tail.
template <int M, int N>
void tile(float* out, int64_t ldo, const float* x, const float* w, int64_t n_in) {
  __m512 acc[M][N];
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) acc[m][n] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + kLanes <= n_in; k += kLanes) {
    __m512 wv[N];
    for (int n = 0; n < N; ++n) wv[n] = _mm512_loadu_ps(w + n * n_in + k);
    for (int m = 0; m < M; ++m) {
      const __m512 xv = _mm512_loadu_ps(x + m * n_in + k);
      for (int n = 0; n < N; ++n) acc[m][n] = _mm512_fmadd_ps(xv, wv[n], acc[m][n]);
    }
  }
  if (k < n_in) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n_in - k)) - 1u);
    __m512 wv[N];
    for (int n = 0; n < N; ++n) wv[n] = _mm512_maskz_loadu_ps(mask, w + n * n_in + k);
    for (int m = 0; m < M; ++m) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, x + m * n_in + k);
      for (int n = 0; n < N; ++n) acc[m][n] = _mm512_fmadd_ps(xv, wv[n], acc[m][n]);
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
    case 7: tile<7, N>(o, ldo, xt, w, n_in); break;
    case 6: tile<6, N>(o, ldo, xt, w, n_in); break;
    case 5: tile<5, N>(o, ldo, xt, w, n_in); break;
    case 4: tile<4, N>(o, ldo, xt, w, n_in); break;
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

// The fused bf16 tile: each 32-weight block of a row is loaded once and widened to f32 by
// interleaving with zeros (the bf16 bits become the high half of each lane): the low half of the
// block holds k = 8*(j/4) + j%4, the high half the same + 4; xi holds x in that order.
template <int M, int N>
void tile_bf16(float* out, int64_t ldo, const float* xi, int64_t ldx, const uint16_t* w, int64_t n_in,
               const uint16_t* prefetch) {
  constexpr int kBlock = 2 * kLanes;
  __m512 acc[M][N];
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) acc[m][n] = _mm512_setzero_ps();
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t k = 0; k < n_in; k += kBlock) {
    __m512i raw[N];
    if (k + kBlock <= n_in) {
      for (int n = 0; n < N; ++n) {
        if (prefetch) _mm_prefetch(reinterpret_cast<const char*>(prefetch + n * n_in + k), _MM_HINT_T0);
        raw[n] = _mm512_loadu_si512(w + n * n_in + k);
      }
    } else {
      const __mmask32 mask = static_cast<__mmask32>((1ull << (n_in - k)) - 1u);
      for (int n = 0; n < N; ++n) raw[n] = _mm512_maskz_loadu_epi16(mask, w + n * n_in + k);
    }
    for (int half = 0; half < 2; ++half) {
      __m512 wv[N];
      for (int n = 0; n < N; ++n)
        wv[n] = _mm512_castsi512_ps(half == 0 ? _mm512_unpacklo_epi16(zero, raw[n]) : _mm512_unpackhi_epi16(zero, raw[n]));
      for (int m = 0; m < M; ++m) {
        const __m512 xv = _mm512_loadu_ps(xi + m * ldx + k + half * kLanes);
        for (int n = 0; n < N; ++n) acc[m][n] = _mm512_fmadd_ps(xv, wv[n], acc[m][n]);
      }
    }
  }
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) out[m * ldo + n] = hsum(acc[m][n]);
}

template <int N>
void rows_bf16(float* out, int64_t ldo, const float* xi, int64_t ldx, int64_t n_tokens, const uint16_t* w,
               int64_t n_in) {
  // The first token tile brings the next rows' weights in while it computes: the weights stream
  // from memory once per call, and later token tiles find them in cache.
  const uint16_t* next = w + N * n_in;  // prefetch never faults, even past the matrix
  int64_t t = 0;
  for (; t + kTokenTile <= n_tokens; t += kTokenTile, next = nullptr)
    tile_bf16<kTokenTile, N>(out + t * ldo, ldo, xi + t * ldx, ldx, w, n_in, next);
  float* o = out + t * ldo;
  const float* xt = xi + t * ldx;
  switch (n_tokens - t) {
    case 7: tile_bf16<7, N>(o, ldo, xt, ldx, w, n_in, next); break;
    case 6: tile_bf16<6, N>(o, ldo, xt, ldx, w, n_in, next); break;
    case 5: tile_bf16<5, N>(o, ldo, xt, ldx, w, n_in, next); break;
    case 4: tile_bf16<4, N>(o, ldo, xt, ldx, w, n_in, next); break;
    case 3: tile_bf16<3, N>(o, ldo, xt, ldx, w, n_in, next); break;
    case 2: tile_bf16<2, N>(o, ldo, xt, ldx, w, n_in, next); break;
    case 1: tile_bf16<1, N>(o, ldo, xt, ldx, w, n_in, next); break;
    default: break;
  }
}

void panel_bf16(float* out, int64_t ldo, const void* xp, int64_t n_tokens, const uint16_t* w, int64_t n_rows,
                int64_t n_in) {
  const float* xi = static_cast<const float*>(xp);  // interleave_x_32
  const int64_t ldx = (n_in + 2 * kLanes - 1) / (2 * kLanes) * (2 * kLanes);
  int64_t r = 0;
  for (; r + kRowTile <= n_rows; r += kRowTile) rows_bf16<kRowTile>(out + r, ldo, xi, ldx, n_tokens, w + r * n_in, n_in);
  if (n_rows - r == 2) rows_bf16<2>(out + r, ldo, xi, ldx, n_tokens, w + r * n_in, n_in);
  if (n_rows - r == 1) rows_bf16<1>(out + r, ldo, xi, ldx, n_tokens, w + r * n_in, n_in);
}

// Scores: the k row is read once for the whole group; each dot product runs over head_dim in
// lane-wide steps (a masked last step) into one accumulator, then the fixed-order sum.
void qk(float* s, int64_t ld_s, const float* q, int64_t group, const float* k, int64_t k_stride, int64_t n_pos,
        int64_t head_dim, float scale) {
  const int64_t full = head_dim / kLanes * kLanes;
  const __mmask16 tail = static_cast<__mmask16>((1u << (head_dim % kLanes)) - 1u);
  for (int64_t p = 0; p < n_pos; ++p) {
    const float* kr = k + p * k_stride;
    for (int64_t h = 0; h < group; ++h) {
      const float* qh = q + h * head_dim;
      __m512 acc = _mm512_setzero_ps();
      for (int64_t i = 0; i < full; i += kLanes) acc = _mm512_fmadd_ps(_mm512_loadu_ps(qh + i), _mm512_loadu_ps(kr + i), acc);
      if (full < head_dim) acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, qh + full), _mm512_maskz_loadu_ps(tail, kr + full), acc);
      s[h * ld_s + p] = hsum(acc) * scale;
    }
  }
}

// R vectors of one head's output row, held in registers while the value rows pass.
template <int R>
void pv_chunk(float* o, const float* w, const float* v, int64_t v_stride, int64_t n_pos) {
  __m512 acc[R];
  for (int j = 0; j < R; ++j) acc[j] = _mm512_loadu_ps(o + j * kLanes);
  for (int64_t p = 0; p < n_pos; ++p) {
    const __m512 wp = _mm512_set1_ps(w[p]);
    const float* vr = v + p * v_stride;
    for (int j = 0; j < R; ++j) acc[j] = _mm512_fmadd_ps(wp, _mm512_loadu_ps(vr + j * kLanes), acc[j]);
  }
  for (int j = 0; j < R; ++j) _mm512_storeu_ps(o + j * kLanes, acc[j]);
}

// Weighted values, one head at a time; each output element accumulates over p in order.
void pv(float* o, const float* w, int64_t ld_w, int64_t group, const float* v, int64_t v_stride, int64_t n_pos,
        int64_t head_dim) {
  const int64_t full = head_dim / kLanes * kLanes;
  const __mmask16 tail = static_cast<__mmask16>((1u << (head_dim % kLanes)) - 1u);
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
      __m512 acc = _mm512_maskz_loadu_ps(tail, oh + full);
      for (int64_t p = 0; p < n_pos; ++p) acc = _mm512_fmadd_ps(_mm512_set1_ps(wh[p]), _mm512_maskz_loadu_ps(tail, v + p * v_stride + full), acc);
      _mm512_mask_storeu_ps(oh + full, tail, acc);
    }
  }
}

// f16 weight rows to f32 (exact, subnormals included); bf16 ones go through panel_bf16.
void convert(float* dst, const void* src, DType /*dtype: f16*/, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i))));
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1u);
    alignas(32) uint16_t tail[kLanes] = {};
    std::memcpy(tail, s + i, static_cast<size_t>(n - i) * 2);
    const __m256i h = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail));
    _mm512_mask_storeu_ps(dst + i, mask, _mm512_cvtph_ps(h));
  }
}

const Kernels kAvx512{convert, panel, interleaved_x_bytes_32, interleave_x_32, panel_bf16, kTokenTile, kRowTile, kTokenTile, kRowTile, qk, pv};

}  // namespace

}  // namespace xlam::cpu

XLAM_TARGET_AVX512_END

namespace xlam::cpu {
const Kernels* kernels_avx512() { return &kAvx512; }
}  // namespace xlam::cpu

#else  // not x86-64 with GCC or Clang

namespace xlam::cpu {
const Kernels* kernels_avx512() { return nullptr; }
}  // namespace xlam::cpu

#endif
