// embedding (rows of an f32/f16/bf16 table, as f32) and get_rows (rows of an f32 tensor): one block
// per output row, threads across the row. The row indices live in device memory, where the op
// cannot check them without waiting for the device: an index outside the table gives a row of
// zeros (the CPU op refuses it from host data), never an access outside the table.
#include <climits>
#include <cstdint>

#include "common/convert.cuh"
#include "common/gpu-compat.h"
#include "ops.h"

namespace xlam::cuda {

namespace {

constexpr int kThreads = 256;

// WT: float, gpu::F16 or gpu::BF16.
template <typename WT>
__global__ void __launch_bounds__(kThreads) gather_rows_kernel(float* out,          // f32 [n_rows, d]
                                                               const WT* table,     // WT [n_table, d]
                                                               const int32_t* idx,  // i32 [n_rows]
                                                               int64_t n_table, int64_t d) {
  const int64_t row = blockIdx.x;
  const int32_t id = idx[row];
  const bool valid = id >= 0 && id < n_table;
  float* o = out + row * d;
  const WT* src = table + (valid ? static_cast<int64_t>(id) * d : 0);
  for (int64_t c = threadIdx.x; c < d; c += kThreads) o[c] = valid ? gpu::to_f32(src[c]) : 0.f;
}

Status gather(const Context& ctx, const char* op, const Tensor& out, const Tensor& table, const Tensor& idx) {
  const int64_t n = idx.shape[0], d = table.shape[1];
  XLAM_TRY(expect(n <= INT_MAX, op, "too many rows"));
  if (n == 0 || d == 0) return Status::Ok();
  float* o = static_cast<float*>(out.data);
  const int32_t* ids = static_cast<const int32_t*>(idx.data);
  const dim3 grid(static_cast<unsigned>(n)), block(kThreads);
  cudaError_t err = cudaErrorInvalidValue;
  switch (table.dtype) {
    case DType::kF32:
      err = gpu::launch(gather_rows_kernel<float>, grid, block, 0, ctx.stream, o,
                        static_cast<const float*>(table.data), ids, table.shape[0], d);
      break;
    case DType::kF16:
      err = gpu::launch(gather_rows_kernel<gpu::F16>, grid, block, 0, ctx.stream, o,
                        static_cast<const gpu::F16*>(table.data), ids, table.shape[0], d);
      break;
    case DType::kBF16:
      err = gpu::launch(gather_rows_kernel<gpu::BF16>, grid, block, 0, ctx.stream, o,
                        static_cast<const gpu::BF16*>(table.data), ids, table.shape[0], d);
      break;
    case DType::kI32:
      break;
  }
  return launch_status(err, op);
}

}  // namespace

Status embedding(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_embd]
                 const Tensor& table,                     // w [n_vocab, n_embd]
                 const Tensor& ids) {                     // i32 [n_tokens]; out of range: a zero row
  const char* op = "embedding";
  XLAM_TRY(check_embedding(out, table, ids));
  return gather(ctx, op, out, table, ids);
}

Status get_rows(const Context& ctx, const Tensor& out,  // f32 [n_rows, n]
                const Tensor& x,                         // f32 [n_tokens, n]
                const Tensor& rows) {                    // i32 [n_rows]; out of range: a zero row
  const char* op = "get_rows";
  XLAM_TRY(check_get_rows(out, x, rows));
  return gather(ctx, op, out, x, rows);
}

}  // namespace xlam::cuda
