#include "convert.h"
#include "ops.h"

namespace xlam::cpu {

Status embedding(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_embd]
                 const Tensor& table,                     // w [n_vocab, n_embd]
                 const Tensor& ids) {                     // i32 [n_tokens]
  const char* op = "embedding";
  XLAM_TRY(check_embedding(out, table, ids));
  const int64_t n = ids.shape[0], d = table.shape[1], n_vocab = table.shape[0];
  const int32_t* id = static_cast<const int32_t*>(ids.data);
  for (int64_t i = 0; i < n; ++i)
    if (id[i] < 0 || id[i] >= n_vocab) return expect(false, op, "token id out of range");
  float* o = static_cast<float*>(out.data);
  (void)ctx;  // a copy; one thread is enough
  for (int64_t i = 0; i < n; ++i) load_row_f32(o + i * d, table.data, table.dtype, id[i] * d, d);
  return Status::Ok();
}

Status get_rows(const Context& ctx, const Tensor& out,  // f32 [n_rows, n]
                const Tensor& x,                         // f32 [n_tokens, n]
                const Tensor& rows) {                    // i32 [n_rows]
  const char* op = "get_rows";
  XLAM_TRY(check_get_rows(out, x, rows));
  const int64_t m = rows.shape[0], d = x.shape[1];
  const int32_t* r = static_cast<const int32_t*>(rows.data);
  for (int64_t i = 0; i < m; ++i)
    if (r[i] < 0 || r[i] >= x.shape[0]) return expect(false, op, "row index out of range");
  (void)ctx;
  float* o = static_cast<float*>(out.data);
  const float* s = static_cast<const float*>(x.data);
  for (int64_t i = 0; i < m; ++i) load_row_f32(o + i * d, s, DType::kF32, r[i] * d, d);
  return Status::Ok();
}

}  // namespace xlam::cpu
