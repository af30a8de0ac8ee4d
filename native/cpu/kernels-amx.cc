// AMX kernels: the AVX-512 set, with bf16 matmuls on the tile unit (AMX-BF16).
//
// The tile unit multiplies bf16 by bf16 and accumulates in f32. Weights are bf16 already; x is
// f32, so each x value is split into three bf16 terms, hi = bf16(x), mid = bf16(x - hi),
// lo = bf16(x - hi - mid), whose sum is x exactly (8 + 8 + 8 significant bits; a remainder below
// bf16's normal range is lost, as the unit flushes subnormals). Every product of a bf16 weight and
// a bf16 term is exact in f32, and each term has its own f32 accumulator, summed at the end as
// (lo + mid) + hi: results are f32-accurate, not bf16-accurate.
//
// Tiles are 16 rows x 64 bytes. C [16 weight rows, 16 columns] f32 += A [16 weight rows, 32 k]
// bf16 (read in place from the weights) x B [16 k pairs, 16 columns] (pairs of k per column, the
// "VNNI" layout). A column is one term of one token (column c: term c % 3 of token c / 3), so one
// token takes 3 columns: decoding 1 to 5 tokens needs a single B tile. The column tiles in use
// decide how many A tiles (16 weight rows each) share each B tile: 2 x 1, 2 x 2 or 1 x 3. An
// output element is the same sum over k blocks in order whichever tile holds its row and column:
// results are batch-invariant.
//
// The tile instructions are inline asm; x is prepared with AVX-512 compiled under a target pragma
// (only intrinsics and internal-linkage functions live under it). Called only when the CPU has AMX
// and the OS grants the tile state (kernels-isa.cc).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "target-region.h"

#if defined(__x86_64__) && defined(__linux__) && \
    ((defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11) || (defined(__clang__) && __clang_major__ >= 12))
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace xlam::cpu {

namespace {

constexpr int64_t kK = 32;         // k per tile row: 64 bytes of bf16
constexpr int64_t kTile = 16;      // rows of every tile; columns of a B or C tile
constexpr int64_t kTerms = 3;      // bf16 terms per x value
constexpr int64_t kTokens = 16;    // tokens per prepared tile (3 column tiles)
constexpr int64_t kGroupRows = 32; // weight rows whose k blocks stay cached while token tiles pass
constexpr int64_t kPrefetchBlocks = 8;

int64_t padded(int64_t n_in) { return (n_in + kK - 1) / kK * kK; }
int64_t column_tiles(int64_t n_tokens) { return (kTerms * n_tokens + kTile - 1) / kTile; }

// Prepared x: per tile of up to 16 tokens, [k block][column tile][k pair 16][column 16] dwords,
// each a pair of bf16 (k even in the low half). A tile of n tokens has column_tiles(n) column
// tiles; columns past its tokens are never read into a result (a C column depends on its B column
// only), so they are left as they are.
int64_t x_bytes(int64_t n_tokens, int64_t n_in) {
  const int64_t full = n_tokens / kTokens, rest = n_tokens % kTokens;
  const int64_t tiles = full * column_tiles(kTokens) + (rest ? column_tiles(rest) : 0);
  return tiles * (padded(n_in) / kK) * kTile * kTile * 4;
}

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// The tile instructions, as asm that tells the compiler which memory it reads and writes. (GCC
// 12's intrinsics do not: _tile_loadconfig declares 8 of the config's 64 bytes, _tile_loadd no
// memory at all, so earlier stores could legally be dropped or moved past them.)
inline void load_config(const TileConfig& cfg) { __asm__ volatile("ldtilecfg %0" ::"m"(cfg)); }
inline void release_tiles() { __asm__ volatile("tilerelease" ::); }
#define XLAM_TILE_LOAD(t, base, stride) \
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t ::"r"(base), "r"(static_cast<long>(stride)) : "memory")
#define XLAM_TILE_STORE(t, base, stride) \
  __asm__ volatile("tilestored %%tmm" #t ", (%0,%1,1)" ::"r"(base), "r"(static_cast<long>(stride)) : "memory")
#define XLAM_TILE_ZERO(t) __asm__ volatile("tilezero %%tmm" #t ::)
#define XLAM_TILE_DOT(c, a, b) __asm__ volatile("tdpbf16ps %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::)  // c += a . b

}  // namespace

}  // namespace xlam::cpu

XLAM_TARGET_AVX512_BEGIN

namespace xlam::cpu {

namespace {

// bf16 bits (round to nearest even) of 16 floats, in the low half of each dword. NaN stays NaN
// (quieted); a finite value that would round past bf16's largest is truncated instead.
__m512i bf16_bits(__m512i u) {
  const __m512i abs = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(abs, _mm512_set1_epi32(0x7f800000));
  const __mmask16 finite = _mm512_cmplt_epu32_mask(abs, _mm512_set1_epi32(0x7f800000));
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), odd)), 16);
  const __mmask16 overflow =
      finite & _mm512_cmpeq_epi32_mask(_mm512_and_si512(r, _mm512_set1_epi32(0x7f80)), _mm512_set1_epi32(0x7f80));
  r = _mm512_mask_mov_epi32(r, overflow, _mm512_srli_epi32(u, 16));
  return _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40)));
}

__m512 bf16_value(__m512i bits) { return _mm512_castsi512_ps(_mm512_slli_epi32(bits, 16)); }

// hi, mid, lo of 16 floats (bf16 bits in dwords); Inf and NaN go whole into hi.
void split3(__m512 x, __m512i t[3]) {
  const __m512i u = _mm512_castps_si512(x);
  const __mmask16 finite = _mm512_cmplt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
                                                  _mm512_set1_epi32(0x7f800000));
  t[0] = bf16_bits(u);
  const __m512 r = _mm512_maskz_sub_ps(finite, x, bf16_value(t[0]));  // exact
  t[1] = bf16_bits(_mm512_castps_si512(r));
  t[2] = bf16_bits(_mm512_castps_si512(_mm512_sub_ps(r, bf16_value(t[1]))));
}

void prepare(void* xp, const float* x, int64_t n_tokens, int64_t n_in) {
  const int64_t n_blocks = padded(n_in) / kK;
  uint8_t* base = static_cast<uint8_t*>(xp);
  // Dword kk of a 32-k block goes to row kk of the B tile: 16 dwords apart.
  const __m512i rows = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                          _mm512_set1_epi32(kTile));
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokens) {
    const int64_t nt = std::min(kTokens, n_tokens - t0), nct = column_tiles(nt);
    int32_t* tile = reinterpret_cast<int32_t*>(base + x_bytes(t0, n_in));
    for (int64_t t = 0; t < nt; ++t) {
      const float* row = x + (t0 + t) * n_in;
      for (int64_t kb = 0; kb < n_blocks; ++kb) {
        const int64_t k = kb * kK, left = n_in - k;
        const __mmask16 m0 = left >= 16 ? 0xffff : static_cast<__mmask16>((1u << left) - 1u);
        const __mmask16 m1 = left >= 32 ? 0xffff : left <= 16 ? 0 : static_cast<__mmask16>((1u << (left - 16)) - 1u);
        __m512i a[3], b[3];
        split3(_mm512_maskz_loadu_ps(m0, row + k), a);
        split3(_mm512_maskz_loadu_ps(m1, row + k + 16), b);
        for (int64_t j = 0; j < kTerms; ++j) {
          const __m512i pairs = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(a[j])),
                                                   _mm512_cvtepi32_epi16(b[j]), 1);
          const int64_t col = kTerms * t + j;
          _mm512_i32scatter_epi32(tile + (kb * nct + col / kTile) * kTile * kTile + col % kTile, rows, pairs, 4);
        }
      }
    }
  }
}

// One group of weight-row tiles against the column tiles of one token tile, over all k blocks
// (tile numbers and shapes: configure). c receives C as [rows 16 * na][columns 16 * nct], ldc
// floats per row.
struct Group {
  const uint16_t* a;  // bf16 [16 * na rows, lda]: the group's weight rows
  int64_t lda;
  const int32_t* b;   // prepared x of the token tile
  int64_t n_blocks;
};

// The weights kPrefetchBlocks k blocks ahead of the group's rows; past their last block, the next
// rows' first ones (a prefetch never faults, even past the matrix). On the 1.5B checkpoint's
// matrices this took a decode step's matmuls from 136 to 114 ms with 1 token and from 305 to
// 266 ms with 16 (2 threads); 4 to 16 blocks measured alike, T1/T2 hints no better.
inline void prefetch_rows(const Group& g, int64_t kb, int64_t rows) {
  int64_t pk = kb + kPrefetchBlocks, pr = 0;
  if (pk >= g.n_blocks) pk -= g.n_blocks, pr = rows;
  if (pk >= g.n_blocks) return;
  for (int64_t r = 0; r < rows; ++r)
    _mm_prefetch(reinterpret_cast<const char*>(g.a + (pr + r) * g.lda + pk * kK), _MM_HINT_T0);
}

#define XLAM_A(t, i) XLAM_TILE_LOAD(t, g.a + (i) * kTile * g.lda + kb * kK, g.lda * 2)
#define XLAM_B(t, j) XLAM_TILE_LOAD(t, bk + (j) * kTile * kTile, kTile * 4)
#define XLAM_C(t, i, j) XLAM_TILE_STORE(t, c + (i) * kTile * ldc + (j) * kTile, ldc * 4)

// 1 column tile (1 to 5 tokens), up to 2 row tiles: C 4, 5 = A 0, 1 x B 3. (A third row tile
// would fit, but 48 weight rows streaming at once per thread read memory slower than 32.)
void group_1(const Group& g, int na, float* c, int64_t ldc) {
  XLAM_TILE_ZERO(4);
  XLAM_TILE_ZERO(5);
  for (int64_t kb = 0; kb < g.n_blocks; ++kb) {
    prefetch_rows(g, kb, na * kTile);
    const int32_t* bk = g.b + kb * kTile * kTile;
    XLAM_B(3, 0);
    XLAM_A(0, 0);
    XLAM_TILE_DOT(4, 0, 3);
    if (na > 1) {
      XLAM_A(1, 1);
      XLAM_TILE_DOT(5, 1, 3);
    }
  }
  XLAM_C(4, 0, 0);
  if (na > 1) XLAM_C(5, 1, 0);
}

// 2 column tiles (6 to 10 tokens), up to 2 row tiles: C 2, 5 = A 0 x B 3, 4; C 6, 7 = A 1 x B 3, 4.
void group_2(const Group& g, int na, float* c, int64_t ldc) {
  XLAM_TILE_ZERO(2);
  XLAM_TILE_ZERO(5);
  XLAM_TILE_ZERO(6);
  XLAM_TILE_ZERO(7);
  for (int64_t kb = 0; kb < g.n_blocks; ++kb) {
    prefetch_rows(g, kb, na * kTile);
    const int32_t* bk = g.b + kb * 2 * kTile * kTile;
    XLAM_B(3, 0);
    XLAM_B(4, 1);
    XLAM_A(0, 0);
    XLAM_TILE_DOT(2, 0, 3);
    XLAM_TILE_DOT(5, 0, 4);
    if (na > 1) {
      XLAM_A(1, 1);
      XLAM_TILE_DOT(6, 1, 3);
      XLAM_TILE_DOT(7, 1, 4);
    }
  }
  XLAM_C(2, 0, 0);
  XLAM_C(5, 0, 1);
  if (na > 1) {
    XLAM_C(6, 1, 0);
    XLAM_C(7, 1, 1);
  }
}

// 3 column tiles (11 to 16 tokens), 1 row tile: C 1, 2, 6 = A 0 x B 3, 4, 5.
void group_3(const Group& g, float* c, int64_t ldc) {
  XLAM_TILE_ZERO(1);
  XLAM_TILE_ZERO(2);
  XLAM_TILE_ZERO(6);
  for (int64_t kb = 0; kb < g.n_blocks; ++kb) {
    prefetch_rows(g, kb, kTile);
    const int32_t* bk = g.b + kb * 3 * kTile * kTile;
    XLAM_B(3, 0);
    XLAM_B(4, 1);
    XLAM_B(5, 2);
    XLAM_A(0, 0);
    XLAM_TILE_DOT(1, 0, 3);
    XLAM_TILE_DOT(2, 0, 4);
    XLAM_TILE_DOT(6, 0, 5);
  }
  XLAM_C(1, 0, 0);
  XLAM_C(2, 0, 1);
  XLAM_C(6, 0, 2);
}

#undef XLAM_A
#undef XLAM_B
#undef XLAM_C
#undef XLAM_TILE_LOAD
#undef XLAM_TILE_STORE
#undef XLAM_TILE_ZERO
#undef XLAM_TILE_DOT

// Tile shapes for nct column tiles, the last holding `last` columns: A tiles 16 x 64 bytes; B and
// C tiles as wide as their columns (the multiply's cost follows the columns it computes).
void configure(int64_t nct, int64_t last) {
  // What each tile number holds, per group function: an A tile, the B or C tile of a column tile
  // (0-2), or nothing.
  constexpr int8_t A = -2, _ = -1;
  static constexpr int8_t kRole[3][8] = {
      {A, A, _, 0, 0, 0, _, _},  // group_1: A 0-1, B 3, C 4-5
      {A, A, 0, 0, 1, 1, 0, 1},  // group_2: A 0-1, B 3-4, C 2 5 6 7
      {A, 0, 1, 0, 1, 2, 2, _},  // group_3: A 0, B 3-5, C 1 2 6
  };
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    const int role = kRole[nct - 1][t];
    if (role == _) continue;
    cfg.rows[t] = kTile;
    cfg.colsb[t] = static_cast<uint16_t>(role == A ? kK * 2 : (role == nct - 1 ? last : kTile) * 4);
  }
  load_config(cfg);
}

void panel_bf16(float* out, int64_t ldo, const void* xp, int64_t n_tokens, const uint16_t* w, int64_t n_rows,
                int64_t n_in) {
  const int64_t kp = padded(n_in), n_blocks = kp / kK;
  const uint8_t* x = static_cast<const uint8_t*>(xp);
  // Rows are read in place when each holds whole k blocks and the group whole row tiles;
  // otherwise through a zero-padded copy (a tile load reads 64 bytes of each of 16 rows).
  const bool in_place = n_in % kK == 0;
  std::vector<uint16_t> copy;
  alignas(64) float c[kGroupRows * kTerms * kTokens];  // C of a group: [32 rows][48 columns]
  constexpr int64_t ldc = kTerms * kTokens;
  int64_t configured = -1;
  for (int64_t r0 = 0; r0 < n_rows; r0 += kGroupRows) {
    const int64_t nr = std::min(kGroupRows, n_rows - r0), n_row_tiles = (nr + kTile - 1) / kTile;
    const uint16_t* a = w + r0 * n_in;
    int64_t lda = n_in;
    if (!in_place || nr % kTile) {
      copy.assign(static_cast<size_t>(n_row_tiles * kTile * kp), 0);
      for (int64_t r = 0; r < nr; ++r) std::memcpy(copy.data() + r * kp, a + r * n_in, static_cast<size_t>(n_in) * 2);
      a = copy.data();
      lda = kp;
    }
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokens) {
      const int64_t nt = std::min(kTokens, n_tokens - t0), nct = column_tiles(nt);
      const int64_t step = nct <= 2 ? 2 : 1;  // row tiles per call
      if (nt != configured) configure(nct, kTerms * nt - kTile * (nct - 1)), configured = nt;
      for (int64_t s = 0; s < n_row_tiles; s += step) {
        const int na = static_cast<int>(std::min(step, n_row_tiles - s));
        const Group g{a + s * kTile * lda, lda, reinterpret_cast<const int32_t*>(x + x_bytes(t0, n_in)), n_blocks};
        float* cg = c + s * kTile * ldc;
        if (nct == 1) group_1(g, na, cg, ldc);
        else if (nct == 2) group_2(g, na, cg, ldc);
        else group_3(g, cg, ldc);
      }
      for (int64_t t = 0; t < nt; ++t)
        for (int64_t r = 0; r < nr; ++r) {
          const float* cr = c + r * ldc + kTerms * t;
          out[(t0 + t) * ldo + r0 + r] = (cr[2] + cr[1]) + cr[0];
        }
    }
  }
  release_tiles();  // the thread's tile state back to init: no 8 KB of it in context switches
}

}  // namespace

}  // namespace xlam::cpu

XLAM_TARGET_AVX512_END

namespace xlam::cpu {

bool amx_usable() {
  static const bool usable = [] {
    unsigned a, b, c, d;
    // CPUID.(7, 0):EDX bit 22 AMX-BF16, bit 24 AMX-TILE.
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 22)) || !(d & (1u << 24))) return false;
    // The OS must enable the tile state (XCR0 bits 17, 18) and let this process use it.
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & (3u << 17)) != (3u << 17)) return false;
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return usable;
}

const Kernels* kernels_amx() {
  static const Kernels* set = [] {
    const Kernels* base = kernels_avx512();
    if (!base) return static_cast<const Kernels*>(nullptr);
    static Kernels k = *base;
    k.bf16_x_bytes = x_bytes;
    k.prepare_bf16 = prepare;
    k.panel_bf16 = panel_bf16;
    k.bf16_token_tile = kTokens;
    k.bf16_row_tile = kTile;
    return static_cast<const Kernels*>(&k);
  }();
  return set;
}

}  // namespace xlam::cpu

#else  // no AMX build

namespace xlam::cpu {
bool amx_usable() { return false; }
const Kernels* kernels_amx() { return nullptr; }
}  // namespace xlam::cpu

#endif
