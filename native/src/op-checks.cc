#include <string>

#include "op-checks.h"

namespace xlam {

Status expect(bool cond, const char* op, const char* what) {
  if (cond) return Status::Ok();
  return Status::Error(Code::kInvalidArgument, std::string(op) + ": " + what);
}

namespace {
Status expect_kind(const Tensor& t, int n_dims, bool dtype_ok, const char* op, const char* what,
                   const char* kind) {
  if (t.empty()) return Status::Error(Code::kInvalidArgument, std::string(op) + ": " + what + " is empty");
  if (!dtype_ok)
    return Status::Error(Code::kInvalidArgument,
                         std::string(op) + ": " + what + " must be " + kind + ", got " + dtype_name(t.dtype));
  if (t.shape.n_dims != n_dims)
    return Status::Error(Code::kInvalidArgument, std::string(op) + ": " + what + " must have " +
                                                     std::to_string(n_dims) + " dims, got " +
                                                     std::to_string(t.shape.n_dims));
  return Status::Ok();
}
}  // namespace

Status expect_f32(const Tensor& t, int n_dims, const char* op, const char* what) {
  return expect_kind(t, n_dims, t.dtype == DType::kF32, op, what, "f32");
}
Status expect_i32(const Tensor& t, int n_dims, const char* op, const char* what) {
  return expect_kind(t, n_dims, t.dtype == DType::kI32, op, what, "i32");
}
Status expect_weight(const Tensor& t, int n_dims, const char* op, const char* what) {
  return expect_kind(t, n_dims, is_weight_dtype(t.dtype), op, what, "f32, f16 or bf16");
}

}  // namespace xlam
