// The CUDA backend object: device memory through the CUDA runtime, each op a kernel launch on one
// stream (ops.h). Built twice from this source: against cudart (libxlam-cuda.so) and against the
// emulator's runtime (libxlam-cuda-emulated.so).
#pragma once
#include <cuda_runtime.h>

#include <memory>
#include <string>

#include "ops.h"
#include "workspace.h"

namespace xlam::cuda {

struct CudaOptions {
  int device = 0;
  bool batch_invariant = true;
  std::string name = "cuda";  // "cuda-emulated" for the emulated build
};

class CudaBackend final : public Backend {
 public:
  // Selects the device and creates the stream; fails with the CUDA error.
  static Status create(const CudaOptions& options, std::unique_ptr<CudaBackend>* out);
  ~CudaBackend() override;

  std::string name() const override { return options_.name; }
  std::string kernels() const override;

  Status alloc(DType dtype, const Shape& shape, Tensor* out) override;
  void release(Tensor* t) override;
  Status adopt_host(const void* host, DType dtype, const Shape& shape, Tensor* out, bool* zero_copy) override;
  Status upload(const Tensor& dst, const void* src, size_t nbytes) override;
  Status download(void* dst, const Tensor& src, size_t nbytes) override;

  Status embedding(const Tensor& out, const Tensor& table, const Tensor& ids) override;
  Status get_rows(const Tensor& out, const Tensor& x, const Tensor& rows) override;
  Status rms_norm(const Tensor& out, const Tensor& x, const Tensor& weight, float eps) override;
  Status add_rms_norm(const Tensor& out, const Tensor& residual, const Tensor& delta, const Tensor& weight,
                      float eps) override;
  Status matmul(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor* bias) override;
  Status rope(const Tensor& x, const Tensor& positions, const Tensor& inv_freq, float attn_factor) override;
  Status kv_write(const Tensor& k_cache, const Tensor& v_cache, const Tensor& k, const Tensor& v,
                  const Tensor& slot_mapping) override;
  Status copy_blocks(const Tensor& k_cache, const Tensor& v_cache, const Tensor& block_pairs) override;
  Status attention(const Tensor& out, const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                   const Tensor& block_tables, const Tensor& token_seq, const Tensor& positions, float scale,
                   int32_t sliding_window) override;
  Status silu_mul(const Tensor& out, const Tensor& gate, const Tensor& up) override;
  Status moe_route(const Tensor& expert_ids, const Tensor& expert_weights, const Tensor& logits) override;
  Status moe_experts(const Tensor& out, const Tensor& x, const Tensor& expert_ids, const Tensor& expert_weights,
                     const ExpertWeights* experts, int32_t n_experts) override;
  Status apply_token_mask(const Tensor& logits, const Tensor& mask) override;
  Status sample(const Tensor& out, const Tensor& logits, const Tensor& params, const Tensor& rng) override;

  const cudaDeviceProp& device() const { return prop_; }

 private:
  explicit CudaBackend(const CudaOptions& options) : options_(options) {}
  // A launch failure leaves the CUDA context unusable (sticky errors): later calls fail fast.
  Status guard(Status st);

  CudaOptions options_;
  cudaDeviceProp prop_{};
  Workspace workspace_;
  Context ctx_;
  Status broken_;  // set once a sticky error happened
};

// "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.1 GiB"
std::string describe_device(const cudaDeviceProp& prop);

}  // namespace xlam::cuda
