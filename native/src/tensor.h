// Tensor: a typed, shaped view of memory owned by a backend. Model code passes tensors to backend
// ops and never dereferences `data` itself (on a GPU backend it is a device pointer).
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace xlam {

enum class DType : uint8_t { kF32, kF16, kBF16, kI32 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kBF16: return 2;
    case DType::kI32: return 4;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kI32: return "i32";
  }
  return "?";
}

constexpr int kMaxDims = 4;

// Shape in PyTorch order: shape[0] is the outermost dimension, shape[n_dims-1] the contiguous one.
struct Shape {
  int n_dims = 0;
  int64_t dim[kMaxDims] = {1, 1, 1, 1};

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) {
    for (int64_t d : dims) dim[n_dims++] = d;
  }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < n_dims; ++i) n *= dim[i];
    return n;
  }
  int64_t operator[](int i) const { return dim[i]; }
  bool operator==(const Shape& o) const {
    if (n_dims != o.n_dims) return false;
    for (int i = 0; i < n_dims; ++i)
      if (dim[i] != o.dim[i]) return false;
    return true;
  }
};

struct Tensor {
  void* data = nullptr;  // backend memory; only the owning backend reads or writes it
  DType dtype = DType::kF32;
  Shape shape;

  bool empty() const { return data == nullptr; }
  int64_t numel() const { return shape.numel(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }
  // Rows of a tensor seen as 2-D [rows, last dim].
  int64_t rows() const { return shape.n_dims == 0 ? 1 : numel() / shape.dim[shape.n_dims - 1]; }
  int64_t cols() const { return shape.n_dims == 0 ? 1 : shape.dim[shape.n_dims - 1]; }
};

}  // namespace xlam
