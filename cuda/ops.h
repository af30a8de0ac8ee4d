// The CUDA backend's ops: the ops of native/src/backend.h, one .cu file each, with the same op and
// file names as native/cpu/ (embedding.cu holds embedding and get_rows as cpu/embedding.cc does).
// Every op checks its arguments (op-checks.h) before a kernel sees them, launches through
// gpu::launch on ctx.stream, and returns a Status; it never waits for the device unless it says so.
// Tensors are device memory; shapes and dtypes are those of backend.h.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "../native/src/backend.h"
#include "../native/src/op-checks.h"

namespace xlam::cuda {

class Workspace;  // device scratch memory (workspace.h)

struct Context {
  cudaStream_t stream = nullptr;
  int n_sms = 1;  // streaming multiprocessors of the device
  int cc = 80;    // compute capability x10 (75, 80, 86, 89, 90, ...); < 80 selects the SIMT kernels
  // Fixed split counts (attention over the KV length, GEMM tiles), so a token's result never
  // depends on what else is in the batch. On by default, as on the CPU backend.
  bool batch_invariant = true;
  Workspace* workspace = nullptr;
  // Device scratch one op call may take. Above it, moe_experts works in chunks of tokens and
  // decode attention leaves its split partials to the prefill kernel, with the same results
  // (bitwise; for attention, with batch_invariant). Tests lower it to reach those paths.
  size_t scratch_budget = size_t{256} << 20;
};

// Device scratch of at least `bytes`, valid until the next call on this context (one op at a
// time runs on a context; an op needing several buffers carves them from one call).
Status scratch(const Context& ctx, size_t bytes, void** out);

// A failed launch (or an emulated kernel's fault) as INTERNAL, naming the op and the CUDA error.
Status launch_status(cudaError_t err, const char* op);

Status embedding(const Context& ctx, const Tensor& out, const Tensor& table, const Tensor& ids);
Status get_rows(const Context& ctx, const Tensor& out, const Tensor& x, const Tensor& rows);
Status rms_norm(const Context& ctx, const Tensor& out, const Tensor& x, const Tensor& weight, float eps);
Status add_rms_norm(const Context& ctx, const Tensor& out, const Tensor& residual, const Tensor& delta,
                    const Tensor& weight, float eps);
Status matmul(const Context& ctx, const Tensor& out, const Tensor& x, const Tensor& w, const Tensor* bias);
Status rope(const Context& ctx, const Tensor& x, const Tensor& positions, const Tensor& inv_freq,
            float attn_factor);
Status kv_write(const Context& ctx, const Tensor& k_cache, const Tensor& v_cache, const Tensor& k,
                const Tensor& v, const Tensor& slot_mapping);
Status copy_blocks(const Context& ctx, const Tensor& k_cache, const Tensor& v_cache,
                   const Tensor& block_pairs);
Status attention(const Context& ctx, const Tensor& out, const Tensor& q, const Tensor& k_cache,
                 const Tensor& v_cache, const Tensor& block_tables, const Tensor& token_seq,
                 const Tensor& positions, float scale, int32_t sliding_window);
Status silu_mul(const Context& ctx, const Tensor& out, const Tensor& gate, const Tensor& up);
Status moe_route(const Context& ctx, const Tensor& expert_ids, const Tensor& expert_weights,
                 const Tensor& logits);
Status moe_experts(const Context& ctx, const Tensor& out, const Tensor& x, const Tensor& expert_ids,
                   const Tensor& expert_weights, const ExpertWeights* experts, int32_t n_experts);
Status apply_token_mask(const Context& ctx, const Tensor& logits, const Tensor& mask);
Status sample(const Context& ctx, const Tensor& out, const Tensor& logits, const Tensor& params, const Tensor& rng);

}  // namespace xlam::cuda
