// nvcuda::wmma for the emulated build (CUDA-EMULATION.md §1.5). Under g++ the toolkit's mma.h is
// empty (guarded by __CUDACC__), so the namespace is provided here.
//
// The per-lane layout of a WMMA fragment is unspecified, so here every lane holds the WHOLE tile
// (num_elements = rows * cols, row-major). Layout-agnostic element-wise code (loop to
// num_elements) then behaves as on the GPU; code whose effect depends on which lane holds which
// element was never portable and is detected: load/store/mma are warp collectives that compare
// the 32 copies and report "lanes hold different fragment contents". mma_sync computes the tile
// once and gives every lane the result; only lane 0 stores (32 identical stores would be a write
// race for TSan mode).
#pragma once
#include <cstdint>
#include <cstring>

#include "device.h"

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K>
struct tile_shape;
template <int M, int N, int K>
struct tile_shape<matrix_a, M, N, K> {
  static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct tile_shape<matrix_b, M, N, K> {
  static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct tile_shape<accumulator, M, N, K> {
  static constexpr int rows = M, cols = N;
};

template <class T, int size>
struct __frag_base {
  T x[size];
  enum { num_elements = size };
  typedef T element_type;
  typedef T storage_element_type;
};

// Element (r, c) of the tile is x[r * cols + c] in every lane.
template <class Use, int M, int N, int K, class T, class Layout = void>
class fragment : public __frag_base<T, tile_shape<Use, M, N, K>::rows * tile_shape<Use, M, N, K>::cols> {
 public:
  static constexpr int rows = tile_shape<Use, M, N, K>::rows;
  static constexpr int cols = tile_shape<Use, M, N, K>::cols;
};

namespace emu {

inline double to_double(const __half& v) { return __half2float(v); }
inline double to_double(const __nv_bfloat16& v) { return __bfloat162float(v); }
template <class T>
inline double to_double(const T& v) {
  return static_cast<double>(v);
}
template <class T>
inline T from_double(double v) {
  return static_cast<T>(v);
}
template <>
inline __half from_double<__half>(double v) {
  return __float2half(static_cast<float>(v));
}
template <>
inline __nv_bfloat16 from_double<__nv_bfloat16>(double v) {
  return __float2bfloat16(static_cast<float>(v));
}

inline uint64_t hash_bytes(const void* p, size_t n) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  const unsigned char* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

inline unsigned lane_id() {
  return (threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)) & 31u;
}

// What a lane brings to a WMMA collective.
struct LaneArgs {
  const char* op;
  uint64_t hash[3];  // fragments whose copies must agree
  int nhash;
  const void* ptr;  // load/store: the address, ldm and layout must agree too
  unsigned ldm;
  int layout;
  void* work;       // mma: the lane's operands
};

// Checks that all 32 lanes are there and agree; returns the first lane's arguments.
inline const LaneArgs* agree(cuda_emu::detail::CollOp* const* lanes, unsigned participants) {
  const cuda_emu::detail::CollOp* first = nullptr;
  for (unsigned l = 0; l < 32 && !first; ++l) first = lanes[l];
  const LaneArgs* a0 = static_cast<const LaneArgs*>(first->arg);
  if (participants != 0xffffffffu)
    cuda_emu::detail::kernel_error(first->file, first->line,
                                   "wmma::%s needs all 32 lanes of the warp; only lanes 0x%08x take part", a0->op,
                                   participants);
  static const char* const names[3] = {"first", "second", "third"};
  for (unsigned l = 1; l < 32; ++l) {
    const LaneArgs* a = static_cast<const LaneArgs*>(lanes[l]->arg);
    for (int h = 0; h < a0->nhash; ++h)
      if (a->hash[h] != a0->hash[h])
        cuda_emu::detail::kernel_error(
            first->file, first->line,
            "wmma::%s: lanes hold different fragment contents (%s fragment: lane %u differs from lane 0). Fragment "
            "elements must be used layout-agnostically (loop to num_elements, same operation in every lane)",
            a0->op, names[h], l);
    if (a->ptr != a0->ptr || a->ldm != a0->ldm || a->layout != a0->layout)
      cuda_emu::detail::kernel_error(first->file, first->line,
                                     "wmma::%s: lanes pass different pointers, ldm or layouts (lane %u differs from "
                                     "lane 0)",
                                     a0->op, l);
  }
  return a0;
}

inline void check_body(cuda_emu::detail::CollOp* const* lanes, unsigned participants) { agree(lanes, participants); }

inline void collective(LaneArgs& args, const char* file, int line) {
  cuda_emu::detail::custom(args.op, cuda_emu::kFullMask, &check_body, &args, file, line);
}

template <class FD, class FA, class FB, class FC>
struct MmaWork {
  FD* d;
  const FA* a;
  const FB* b;
  const FC* c;
};

// D = A * B + C, once, from lane 0's operands (all lanes agree), into every lane's D.
template <class FD, class FA, class FB, class FC>
void mma_body(cuda_emu::detail::CollOp* const* lanes, unsigned participants) {
  const LaneArgs* a0 = agree(lanes, participants);
  const auto* w0 = static_cast<const MmaWork<FD, FA, FB, FC>*>(a0->work);
  constexpr int M = FD::rows, N = FD::cols, K = FA::cols;
  typename FD::element_type r[M * N];
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double acc = to_double(w0->c->x[i * N + j]);
      for (int k = 0; k < K; ++k) acc += to_double(w0->a->x[i * K + k]) * to_double(w0->b->x[k * N + j]);
      r[i * N + j] = from_double<typename FD::element_type>(acc);
    }
  for (unsigned l = 0; l < 32; ++l) {
    const auto* w = static_cast<const MmaWork<FD, FA, FB, FC>*>(static_cast<const LaneArgs*>(lanes[l]->arg)->work);
    std::memcpy(static_cast<void*>(w->d->x), r, sizeof r);
  }
}

}  // namespace emu

template <class Use, int M, int N, int K, class T, class L>
inline void fill_fragment(fragment<Use, M, N, K, T, L>& f, const T& v) {
  for (int i = 0; i < f.num_elements; ++i) f.x[i] = v;
}

template <class Use, int M, int N, int K, class T, class L>
inline void load_matrix_sync(fragment<Use, M, N, K, T, L>& f, const T* p, unsigned ldm,
                             const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  static_assert(!std::is_same<Use, accumulator>::value, "accumulator loads take a layout_t");
  constexpr bool row = std::is_same<L, row_major>::value;
  emu::LaneArgs args{"load_matrix_sync", {}, 0, p, ldm, row ? 0 : 1, nullptr};
  emu::collective(args, file, line);
  using F = fragment<Use, M, N, K, T, L>;
  for (int r = 0; r < F::rows; ++r)
    for (int c = 0; c < F::cols; ++c) f.x[r * F::cols + c] = row ? p[r * ldm + c] : p[c * ldm + r];
}

template <int M, int N, int K, class T>
inline void load_matrix_sync(fragment<accumulator, M, N, K, T>& f, const T* p, unsigned ldm, layout_t layout,
                             const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  emu::LaneArgs args{"load_matrix_sync", {}, 0, p, ldm, static_cast<int>(layout), nullptr};
  emu::collective(args, file, line);
  using F = fragment<accumulator, M, N, K, T>;
  for (int r = 0; r < F::rows; ++r)
    for (int c = 0; c < F::cols; ++c)
      f.x[r * F::cols + c] = layout == mem_row_major ? p[r * ldm + c] : p[c * ldm + r];
}

template <int M, int N, int K, class T>
inline void store_matrix_sync(T* p, const fragment<accumulator, M, N, K, T>& f, unsigned ldm, layout_t layout,
                              const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  emu::LaneArgs args{"store_matrix_sync", {emu::hash_bytes(f.x, sizeof f.x)}, 1, p, ldm, static_cast<int>(layout),
                     nullptr};
  emu::collective(args, file, line);
  if (emu::lane_id() != 0) return;
  using F = fragment<accumulator, M, N, K, T>;
  for (int r = 0; r < F::rows; ++r)
    for (int c = 0; c < F::cols; ++c) {
      T& dst = layout == mem_row_major ? p[r * ldm + c] : p[c * ldm + r];
      dst = f.x[r * F::cols + c];
    }
}

template <int M, int N, int K, class TD, class TA, class LA, class TB, class LB, class TC>
inline void mma_sync(fragment<accumulator, M, N, K, TD>& d, const fragment<matrix_a, M, N, K, TA, LA>& a,
                     const fragment<matrix_b, M, N, K, TB, LB>& b, const fragment<accumulator, M, N, K, TC>& c,
                     bool satf = false, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  (void)satf;
  using FD = fragment<accumulator, M, N, K, TD>;
  using FA = fragment<matrix_a, M, N, K, TA, LA>;
  using FB = fragment<matrix_b, M, N, K, TB, LB>;
  using FC = fragment<accumulator, M, N, K, TC>;
  emu::MmaWork<FD, FA, FB, FC> work{&d, &a, &b, &c};
  emu::LaneArgs args{"mma_sync",
                     {emu::hash_bytes(a.x, sizeof a.x), emu::hash_bytes(b.x, sizeof b.x), emu::hash_bytes(c.x, sizeof c.x)},
                     3,
                     nullptr,
                     0,
                     0,
                     &work};
  cuda_emu::detail::custom("wmma::mma_sync", cuda_emu::kFullMask, &emu::mma_body<FD, FA, FB, FC>, &args, file, line);
}

}  // namespace wmma
}  // namespace nvcuda
