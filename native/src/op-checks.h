// Argument checks shared by every backend's ops (cpu/, cuda/): each returns INVALID_ARGUMENT
// naming the op and the argument, so a wrong shape or dtype never reaches a kernel.
#pragma once
#include "status.h"
#include "tensor.h"

namespace xlam {

inline bool is_weight_dtype(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

Status expect(bool cond, const char* op, const char* what);
Status expect_f32(const Tensor& t, int n_dims, const char* op, const char* what);
Status expect_i32(const Tensor& t, int n_dims, const char* op, const char* what);
Status expect_weight(const Tensor& t, int n_dims, const char* op, const char* what);

}  // namespace xlam
