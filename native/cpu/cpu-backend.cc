#include "cpu-backend.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

namespace xlam::cpu {

namespace {
constexpr size_t kAlign = 64;

Status check_shape(DType dtype, const Shape& shape, size_t* bytes) {
  if (shape.n_dims < 0 || shape.n_dims > kMaxDims) return Status::Error(Code::kInvalidArgument, "alloc: bad rank");
  uint64_t n = dtype_size(dtype);
  for (int i = 0; i < shape.n_dims; ++i) {
    if (shape.dim[i] < 0) return Status::Error(Code::kInvalidArgument, "alloc: negative dimension");
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(shape.dim[i]), &n))
      return Status::Error(Code::kOutOfMemory, "alloc: size overflows");
  }
  *bytes = static_cast<size_t>(n);
  return Status::Ok();
}
}  // namespace

CpuBackend::CpuBackend(const CpuOptions& options) {
  int n = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (options.reference || n < 1) n = 1;
  pool_ = std::make_unique<ThreadPool>(n, options.priority);
  ctx_.pool = pool_.get();
  ctx_.reference = options.reference;
  isa_ = options.isa == Isa::kAuto || !isa_supported(options.isa) ? detect_isa() : options.isa;
  ctx_.kernels = &kernels_for(isa_);
}

CpuBackend::~CpuBackend() {
  for (void* p : owned_) std::free(p);
}

Status CpuBackend::alloc(DType dtype, const Shape& shape, Tensor* out) {
  size_t bytes;
  XLAM_TRY(check_shape(dtype, shape, &bytes));
  size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  if (rounded == 0) rounded = kAlign;
  void* p = std::aligned_alloc(kAlign, rounded);
  if (!p) return Status::Error(Code::kOutOfMemory, "cannot allocate " + std::to_string(bytes) + " bytes");
  {
    std::lock_guard<std::mutex> lock(mu_);
    owned_.insert(p);
  }
  out->data = p;
  out->dtype = dtype;
  out->shape = shape;
  return Status::Ok();
}

void CpuBackend::release(Tensor* t) {
  if (!t || !t->data) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = owned_.find(t->data);
    if (it != owned_.end()) {
      owned_.erase(it);
      std::free(t->data);
    }
  }
  *t = Tensor{};
}

Status CpuBackend::adopt_host(const void* host, DType dtype, const Shape& shape, Tensor* out, bool* zero_copy) {
  size_t bytes;
  XLAM_TRY(check_shape(dtype, shape, &bytes));
  if (reinterpret_cast<uintptr_t>(host) % dtype_size(dtype) == 0) {
    out->data = const_cast<void*>(host);  // read in place; ops never write weights
    out->dtype = dtype;
    out->shape = shape;
    if (zero_copy) *zero_copy = true;
    return Status::Ok();
  }
  XLAM_TRY(alloc(dtype, shape, out));  // misaligned in the file: copy once
  std::memcpy(out->data, host, bytes);
  if (zero_copy) *zero_copy = false;
  return Status::Ok();
}

Status CpuBackend::upload(const Tensor& dst, const void* src, size_t nbytes) {
  if (nbytes > dst.nbytes()) return Status::Error(Code::kInvalidArgument, "upload: more bytes than the tensor holds");
  std::memcpy(dst.data, src, nbytes);
  return Status::Ok();
}

Status CpuBackend::download(void* dst, const Tensor& src, size_t nbytes) {
  if (nbytes > src.nbytes()) return Status::Error(Code::kInvalidArgument, "download: more bytes than the tensor holds");
  std::memcpy(dst, src.data, nbytes);
  return Status::Ok();
}

Status CpuBackend::embedding(const Tensor& out, const Tensor& table, const Tensor& ids) {
  return cpu::embedding(ctx_, out, table, ids);
}
Status CpuBackend::get_rows(const Tensor& out, const Tensor& x, const Tensor& rows) {
  return cpu::get_rows(ctx_, out, x, rows);
}
Status CpuBackend::rms_norm(const Tensor& out, const Tensor& x, const Tensor& weight, float eps) {
  return cpu::rms_norm(ctx_, out, x, weight, eps);
}
Status CpuBackend::add_rms_norm(const Tensor& out, const Tensor& residual, const Tensor& delta,
                                const Tensor& weight, float eps) {
  return cpu::add_rms_norm(ctx_, out, residual, delta, weight, eps);
}
Status CpuBackend::matmul(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor* bias) {
  return cpu::matmul(ctx_, out, x, w, bias);
}
Status CpuBackend::rope(const Tensor& x, const Tensor& positions, const Tensor& inv_freq, float attn_factor) {
  return cpu::rope(ctx_, x, positions, inv_freq, attn_factor);
}
Status CpuBackend::kv_write(const Tensor& k_cache, const Tensor& v_cache, const Tensor& k, const Tensor& v,
                            const Tensor& slot_mapping) {
  return cpu::kv_write(ctx_, k_cache, v_cache, k, v, slot_mapping);
}
Status CpuBackend::copy_blocks(const Tensor& k_cache, const Tensor& v_cache, const Tensor& block_pairs) {
  return cpu::copy_blocks(ctx_, k_cache, v_cache, block_pairs);
}
Status CpuBackend::attention(const Tensor& out, const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                             const Tensor& block_tables, const Tensor& token_seq, const Tensor& positions,
                             float scale, int32_t sliding_window) {
  return cpu::attention(ctx_, out, q, k_cache, v_cache, block_tables, token_seq, positions, scale, sliding_window);
}
Status CpuBackend::silu_mul(const Tensor& out, const Tensor& gate, const Tensor& up) {
  return cpu::silu_mul(ctx_, out, gate, up);
}
Status CpuBackend::moe_route(const Tensor& expert_ids, const Tensor& expert_weights, const Tensor& logits) {
  return cpu::moe_route(ctx_, expert_ids, expert_weights, logits);
}
Status CpuBackend::moe_experts(const Tensor& out, const Tensor& x, const Tensor& expert_ids,
                               const Tensor& expert_weights, const ExpertWeights* experts, int32_t n_experts) {
  return cpu::moe_experts(ctx_, out, x, expert_ids, expert_weights, experts, n_experts);
}
Status CpuBackend::apply_token_mask(const Tensor& logits, const Tensor& mask) {
  return cpu::apply_token_mask(ctx_, logits, mask);
}
Status CpuBackend::sample(const Tensor& out, const Tensor& logits, const Tensor& params, const Tensor& rng) {
  return cpu::sample(ctx_, out, logits, params, rng);
}

}  // namespace xlam::cpu
