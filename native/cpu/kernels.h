// SIMD kernels of the fast CPU path (matrix multiply, attention), one set per instruction set
// (generic C++, AVX2+FMA, AVX-512, AVX-512 with AMX tiles for bf16 weights), chosen once per
// backend at start-up.
//
// Every matmul kernel computes each output element as one dot product over the whole n_in, with
// the same lane assignment, the same multiply-adds in k order and the same final sum, whatever
// tile the element falls in; the attention kernels work one token at a time. So a token's result
// never depends on how many tokens share the batch (batch invariance), only on the instruction
// set.
#pragma once
#include <cstdint>

#include "../src/tensor.h"

namespace xlam::cpu {

enum class Isa { kAuto, kGeneric, kAvx2, kAvx512, kAmx };

const char* isa_name(Isa isa);
// The best instruction set this CPU (and this build) supports.
Isa detect_isa();
// Whether kernels for `isa` are built in and this CPU runs them.
bool isa_supported(Isa isa);
// Parses "generic" | "avx2" | "avx512" | "amx" | "auto"; false for anything else.
bool parse_isa(const char* text, Isa* out);

struct Kernels {
  // Weight rows as f32: dst[0..n) = f32(src[0..n)) for a f16 source, or a bf16 one when the set
  // has no panel_bf16.
  void (*convert)(float* dst,        // f32 [n]
                  const void* src,   // f16 | bf16 [n]
                  DType dtype, int64_t n);
  // out[t, r] = dot(x[t, :], w[r, :]) for t < n_tokens, r < n_rows.
  void (*panel)(float* out, int64_t ldo,         // f32 [n_tokens, ldo], columns [0, n_rows) written
                const float* x, int64_t n_tokens,  // f32 [n_tokens, n_in]
                const float* w, int64_t n_rows,    // f32 [n_rows, n_in]
                int64_t n_in);
  // Optional fused bf16 path (nullptr: convert, then panel): bf16 weights are read in place and x
  // comes in the kernel's own layout, made once per call by prepare_bf16, bf16_x_bytes(n_tokens,
  // n_in) bytes. x split at a multiple of bf16_token_tile tokens gives two prepared x's, the second
  // starting bf16_x_bytes(split, n_in) bytes in (so token blocks, and the preparation, can be
  // split there).
  int64_t (*bf16_x_bytes)(int64_t n_tokens, int64_t n_in);
  void (*prepare_bf16)(void* xp,                                  // prepared x
                       const float* x, int64_t n_tokens, int64_t n_in);  // f32 [n_tokens, n_in]
  void (*panel_bf16)(float* out, int64_t ldo,          // f32 [n_tokens, ldo], columns [0, n_rows)
                     const void* xp, int64_t n_tokens,   // prepared x [n_tokens]
                     const uint16_t* w, int64_t n_rows,  // bf16 [n_rows, n_in]
                     int64_t n_in);
  int64_t token_tile;  // tokens per register tile (token blocks are multiples of it)
  int64_t row_tile;    // weight rows per register tile (panels are multiples of it)
  int64_t bf16_token_tile, bf16_row_tile;  // the same for panel_bf16

  // Attention scores of one token's query heads sharing a kv head, over n_pos cache rows:
  // s[h * ld_s + p] = dot(q[h], k[p]) * scale.
  void (*qk)(float* s, int64_t ld_s,                     // f32 [group, ld_s], columns [0, n_pos) written
             const float* q, int64_t group,              // f32 [group, head_dim]
             const float* k, int64_t k_stride, int64_t n_pos,  // f32 rows of head_dim, k_stride apart
             int64_t head_dim, float scale);
  // o[h] += sum over p, in order, of w[h * ld_w + p] * v[p].
  void (*pv)(float* o,                                   // f32 [group, head_dim]
             const float* w, int64_t ld_w, int64_t group,  // f32 [group, ld_w], columns [0, n_pos) read
             const float* v, int64_t v_stride, int64_t n_pos,  // f32 rows of head_dim, v_stride apart
             int64_t head_dim);
};

const Kernels& kernels_for(Isa isa);  // isa must be supported and not kAuto

// Portable dot product with a fixed order: 8 running sums, a fixed tree, then the tail. The
// generic kernels and the norms use it, so their results never depend on the batch.
float dot_fixed_order(const float* a, const float* b, int64_t n);

// prepare_bf16 of the AVX2 (block 16) and AVX-512 (block 32) sets, whose kernels widen bf16
// weights in registers by interleaving them with zeros: that orders each block of weights as
// k = 8*(j/4) + j%4 for lanes j of the first half and the same + 4 for the second half, so x rows
// are reordered the same way: f32 [n_tokens, round_up(n_in, block)], zero-padded.
int64_t interleaved_x_bytes_16(int64_t n_tokens, int64_t n_in);
int64_t interleaved_x_bytes_32(int64_t n_tokens, int64_t n_in);
void interleave_x_16(void* xp, const float* x, int64_t n_tokens, int64_t n_in);
void interleave_x_32(void* xp, const float* x, int64_t n_tokens, int64_t n_in);

// Per-ISA kernel sets; nullptr when the build has none for this architecture.
const Kernels* kernels_generic();
const Kernels* kernels_avx2();
const Kernels* kernels_avx512();
// The AVX-512 set with bf16 matmuls on AMX tiles; nullptr when the build has none. amx_usable()
// also asks the OS for the tile state (Linux: ARCH_REQ_XCOMP_PERM), once per process.
const Kernels* kernels_amx();
bool amx_usable();

}  // namespace xlam::cpu
