// The CPU backend: host memory, a thread pool, and the ops of native/cpu/*.cc.
#pragma once
#include <memory>
#include <mutex>
#include <unordered_set>

#include "../src/backend.h"
#include "ops.h"
#include "thread-pool.h"

namespace xlam::cpu {

struct CpuOptions {
  int threads = 0;         // 0: all hardware threads
  bool reference = false;  // plain reference loops (the oracle), one thread
  ComputePriority priority = ComputePriority::kIdle;  // of the worker threads
  Isa isa = Isa::kAuto;  // kernels of the fast path; kAuto: the best this CPU runs
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const CpuOptions& options);
  ~CpuBackend() override;

  std::string name() const override { return ctx_.reference ? "cpu-reference" : "cpu"; }
  std::string kernels() const override { return ctx_.reference ? "reference" : isa_name(isa_); }
  int threads() const { return pool_->size(); }
  Isa isa() const { return isa_; }

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

 private:
  std::unique_ptr<ThreadPool> pool_;
  Context ctx_;
  Isa isa_;
  std::mutex mu_;
  std::unordered_set<void*> owned_;  // allocations this backend must free
};

}  // namespace xlam::cpu
