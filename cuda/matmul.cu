// matmul: out = x @ w^T (+ bias), the op entry and the choice of kernel (gemm.h):
//   batch_invariant on (default): the tensor-core GEMM (sm_80+, f16/bf16 weights) or the SIMT GEMM
//     (sm_75, or f32 weights), small tiles for <= 16 (SIMT: 8) rows and large ones above. Both
//     tile configurations reduce every element in the same order, so decode (1 row), a batch of 3
//     and a prefill of 113 give bitwise equal rows; the final logits of decode run the small tile
//     over the vocabulary (16 x 64 outputs per block: 2,374 blocks for 151,936 columns).
//   batch_invariant off: up to 8 rows take the GEMV (one warp per column), the rest as above.
#include <climits>

#include "common/gpu-compat.h"
#include "gemm.h"
#include "ops.h"

namespace xlam::cuda {

Status matmul(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_out]
              const Tensor& x,                         // f32 [n_tokens, n_in]
              const Tensor& w,                         // w [n_out, n_in]
              const Tensor* bias) {                    // w [n_out] or nullptr
  const char* op = "matmul";
  XLAM_TRY(check_matmul(out, x, w, bias));
  const int64_t m = x.shape[0], n = w.shape[0], k = w.shape[1];
  XLAM_TRY(expect(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX, op, "dimensions must be below 2^31"));
  if (m == 0 || n == 0) return Status::Ok();

  GemmArgs args;
  args.mode = kGemmPlain;
  args.wdtype = dtype_code(w.dtype);
  args.m = static_cast<int>(m);
  args.n = static_cast<int>(n);
  args.k = static_cast<int>(k);
  args.a = static_cast<const float*>(x.data);
  args.out = static_cast<float*>(out.data);
  args.w = w.data;
  args.bias = bias ? bias->data : nullptr;
  args.bias_dtype = bias ? dtype_code(bias->dtype) : 0;

  cudaError_t err;
  if (!ctx.batch_invariant && m <= kGemvMaxRows) {
    err = gemv(args, ctx.stream);
  } else if (ctx.cc >= 80 && w.dtype != DType::kF32) {
    const GemmSize size = m <= 16 ? GemmSize::kSmall : GemmSize::kLarge;
    const int64_t rows = gemm_mma_tile_rows(size), tiles = (m + rows - 1) / rows;
    XLAM_TRY(expect(tiles <= 65535, op, "too many rows for one launch"));
    err = gemm_mma(args, size, static_cast<int>(tiles), ctx.stream);
  } else {
    const GemmSize size = m <= 8 ? GemmSize::kSmall : GemmSize::kLarge;
    const int64_t rows = gemm_simt_tile_rows(size), tiles = (m + rows - 1) / rows;
    XLAM_TRY(expect(tiles <= 65535, op, "too many rows for one launch"));
    err = gemm_simt(args, size, static_cast<int>(tiles), ctx.stream);
  }
  return launch_status(err, op);
}

}  // namespace xlam::cuda
