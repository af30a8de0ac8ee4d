#include "cuda-backend.h"

#include <cstdio>
#include <string>

namespace xlam::cuda {

namespace {
Status cuda_error(cudaError_t err, const std::string& what) {
  const Code code = err == cudaErrorMemoryAllocation ? Code::kOutOfMemory : Code::kInternal;
  return Status::Error(code, "cuda: " + what + ": " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
}
// Errors that leave the context unusable; everything else (e.g. out of memory) is recoverable.
bool sticky(cudaError_t err) {
  return err == cudaErrorLaunchFailure || err == cudaErrorIllegalAddress || err == cudaErrorMisalignedAddress ||
         err == cudaErrorHardwareStackError || err == cudaErrorIllegalInstruction || err == cudaErrorAssert ||
         err == cudaErrorLaunchTimeout || err == cudaErrorUnknown;
}
}  // namespace

std::string describe_device(const cudaDeviceProp& prop) {
  char buf[320];
  std::snprintf(buf, sizeof buf, "%s, sm_%d%d, %d SMs, %.1f GiB", prop.name, prop.major, prop.minor,
                prop.multiProcessorCount, static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

Status CudaBackend::create(const CudaOptions& options, std::unique_ptr<CudaBackend>* out) {
  std::unique_ptr<CudaBackend> be(new CudaBackend(options));
  cudaError_t err = cudaSetDevice(options.device);
  if (err != cudaSuccess) return cuda_error(err, "select device " + std::to_string(options.device));
  err = cudaGetDeviceProperties(&be->prop_, options.device);
  if (err != cudaSuccess) return cuda_error(err, "device properties");
  cudaStream_t stream = nullptr;
  err = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  if (err != cudaSuccess) return cuda_error(err, "create stream");
  be->ctx_.stream = stream;
  be->ctx_.n_sms = be->prop_.multiProcessorCount;
  be->ctx_.cc = be->prop_.major * 10 + be->prop_.minor;
  be->ctx_.batch_invariant = options.batch_invariant;
  be->ctx_.workspace = &be->workspace_;
  *out = std::move(be);
  return Status::Ok();
}

CudaBackend::~CudaBackend() {
  if (ctx_.stream) {
    cudaStreamSynchronize(ctx_.stream);
    cudaStreamDestroy(ctx_.stream);
  }
}

std::string CudaBackend::kernels() const {
  return "sm_" + std::to_string(prop_.major) + std::to_string(prop_.minor) + (ctx_.cc >= 80 ? " mma.sync" : " simt");
}

Status CudaBackend::guard(Status st) {
  if (!st.ok() && broken_.ok()) {
    const cudaError_t err = cudaPeekAtLastError();
    if (sticky(err)) broken_ = st;
  }
  return st;
}

Status CudaBackend::alloc(DType dtype, const Shape& shape, Tensor* out) {
  XLAM_TRY(broken_);
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  const size_t n = t.nbytes();
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, n == 0 ? 1 : n);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return cuda_error(err, "allocate " + std::to_string(n) + " bytes");
  }
  t.data = p;
  *out = t;
  return Status::Ok();
}

void CudaBackend::release(Tensor* t) {
  if (t->data) cudaFree(t->data);
  *t = Tensor{};
}

Status CudaBackend::adopt_host(const void* host, DType dtype, const Shape& shape, Tensor* out, bool* zero_copy) {
  XLAM_TRY(alloc(dtype, shape, out));
  Status st = upload(*out, host, out->nbytes());
  if (!st.ok()) {
    release(out);
    return st;
  }
  *zero_copy = false;
  return Status::Ok();
}

Status CudaBackend::upload(const Tensor& dst, const void* src, size_t nbytes) {
  XLAM_TRY(broken_);
  if (nbytes > dst.nbytes()) return Status::Error(Code::kInvalidArgument, "upload: more bytes than the tensor holds");
  cudaError_t err = cudaMemcpyAsync(dst.data, src, nbytes, cudaMemcpyHostToDevice, ctx_.stream);
  if (err == cudaSuccess) err = cudaStreamSynchronize(ctx_.stream);  // src may be reused at once
  return err == cudaSuccess ? Status::Ok() : guard(cuda_error(err, "upload"));
}

Status CudaBackend::download(void* dst, const Tensor& src, size_t nbytes) {
  XLAM_TRY(broken_);
  if (nbytes > src.nbytes()) return Status::Error(Code::kInvalidArgument, "download: more bytes than the tensor holds");
  cudaError_t err = cudaMemcpyAsync(dst, src.data, nbytes, cudaMemcpyDeviceToHost, ctx_.stream);
  if (err == cudaSuccess) err = cudaStreamSynchronize(ctx_.stream);
  return err == cudaSuccess ? Status::Ok() : guard(cuda_error(err, "download"));
}

// Each op: refuse once the context is broken, run, remember a sticky failure.
#define XLAM_CUDA_OP(call) \
  XLAM_TRY(broken_);       \
  return guard(call)

Status CudaBackend::embedding(const Tensor& out, const Tensor& table, const Tensor& ids) {
  XLAM_CUDA_OP(cuda::embedding(ctx_, out, table, ids));
}
Status CudaBackend::get_rows(const Tensor& out, const Tensor& x, const Tensor& rows) {
  XLAM_CUDA_OP(cuda::get_rows(ctx_, out, x, rows));
}
Status CudaBackend::rms_norm(const Tensor& out, const Tensor& x, const Tensor& weight, float eps) {
  XLAM_CUDA_OP(cuda::rms_norm(ctx_, out, x, weight, eps));
}
Status CudaBackend::add_rms_norm(const Tensor& out, const Tensor& residual, const Tensor& delta, const Tensor& weight,
                                 float eps) {
  XLAM_CUDA_OP(cuda::add_rms_norm(ctx_, out, residual, delta, weight, eps));
}
Status CudaBackend::matmul(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor* bias) {
  XLAM_CUDA_OP(cuda::matmul(ctx_, out, x, w, bias));
}
Status CudaBackend::rope(const Tensor& x, const Tensor& positions, const Tensor& inv_freq, float attn_factor) {
  XLAM_CUDA_OP(cuda::rope(ctx_, x, positions, inv_freq, attn_factor));
}
Status CudaBackend::kv_write(const Tensor& k_cache, const Tensor& v_cache, const Tensor& k, const Tensor& v,
                             const Tensor& slot_mapping) {
  XLAM_CUDA_OP(cuda::kv_write(ctx_, k_cache, v_cache, k, v, slot_mapping));
}
Status CudaBackend::copy_blocks(const Tensor& k_cache, const Tensor& v_cache, const Tensor& block_pairs) {
  XLAM_CUDA_OP(cuda::copy_blocks(ctx_, k_cache, v_cache, block_pairs));
}
Status CudaBackend::attention(const Tensor& out, const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                              const Tensor& block_tables, const Tensor& token_seq, const Tensor& positions,
                              float scale, int32_t sliding_window) {
  XLAM_CUDA_OP(cuda::attention(ctx_, out, q, k_cache, v_cache, block_tables, token_seq, positions, scale,
                               sliding_window));
}
Status CudaBackend::silu_mul(const Tensor& out, const Tensor& gate, const Tensor& up) {
  XLAM_CUDA_OP(cuda::silu_mul(ctx_, out, gate, up));
}
Status CudaBackend::moe_route(const Tensor& expert_ids, const Tensor& expert_weights, const Tensor& logits) {
  XLAM_CUDA_OP(cuda::moe_route(ctx_, expert_ids, expert_weights, logits));
}
Status CudaBackend::moe_experts(const Tensor& out, const Tensor& x, const Tensor& expert_ids,
                                const Tensor& expert_weights, const ExpertWeights* experts, int32_t n_experts) {
  XLAM_CUDA_OP(cuda::moe_experts(ctx_, out, x, expert_ids, expert_weights, experts, n_experts));
}
Status CudaBackend::apply_token_mask(const Tensor& logits, const Tensor& mask) {
  XLAM_CUDA_OP(cuda::apply_token_mask(ctx_, logits, mask));
}
Status CudaBackend::sample(const Tensor& out, const Tensor& logits, const Tensor& params, const Tensor& rng) {
  XLAM_CUDA_OP(cuda::sample(ctx_, out, logits, params, rng));
}

#undef XLAM_CUDA_OP

}  // namespace xlam::cuda
