// The attention op: argument checks (as cpu/attention.cc, minus those that need the index data,
// which lives on the device) and dispatch from shapes:
//   - n_tokens == n_seqs (every sequence has one token: pure decode): the split-KV decode kernel,
//     then the merge kernel when the block tables are longer than one partition;
//   - otherwise (prefill chunks, mixed batches): the prefill kernel.
// Both kernels handle any batch correctly; the shapes only pick the faster one. With
// ctx.batch_invariant the partition size is fixed (kPartition keys), and both kernels give a token
// the same bits, so a token's output never depends on the rest of the batch.
//
// Index data is not checked on the host (reading it would wait for the device). The kernels never
// access memory outside the tensors for any index value: a token whose sequence is out of range,
// whose position is negative or beyond its block-table row gets an output of zeros; a key whose
// block-table entry is outside [0, n_blocks) is masked (as if absent); a token none of whose keys
// has a valid entry gets zeros.
#include <algorithm>

#include "attention-kernels.h"

namespace xlam::cuda {

namespace {

// Keys per partition. Batch-invariant: fixed. Otherwise: decode splits the longest table so the
// grid has about two blocks per SM; prefill walks its rows' keys in one partition.
int partition_size(const Context& ctx, const attn::Geometry& g, int64_t ctx_len, bool decode) {
  using attn::kKeyTile;
  if (ctx.batch_invariant) return attn::kPartition;
  const int64_t whole = std::max<int64_t>(kKeyTile, (ctx_len + kKeyTile - 1) / kKeyTile * kKeyTile);
  if (!decode) return static_cast<int>(whole);
  const int64_t blocks = static_cast<int64_t>(g.n_tokens) * g.n_kv_heads * ((g.group + 15) / 16);
  const int64_t want = (2 * static_cast<int64_t>(ctx.n_sms) + blocks - 1) / blocks;
  if (want <= 1) return static_cast<int>(whole);
  const int64_t per = (ctx_len + want - 1) / want;
  return static_cast<int>(std::min(whole, std::max<int64_t>(4 * kKeyTile, (per + kKeyTile - 1) / kKeyTile * kKeyTile)));
}

}  // namespace

Status attention(const Context& ctx, const Tensor& out,  // f32 [n_tokens, n_heads, head_dim]
                 const Tensor& q,                         // f32 [n_tokens, n_heads, head_dim]
                 const Tensor& k_cache,                   // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                 const Tensor& v_cache,                   // f32 [n_blocks, block_size, n_kv_heads, head_dim]
                 const Tensor& block_tables,              // i32 [n_seqs, max_blocks_per_seq]
                 const Tensor& token_seq,                 // i32 [n_tokens]
                 const Tensor& positions,                 // i32 [n_tokens]
                 float scale, int32_t sliding_window) {
  const char* op = "attention";
  XLAM_TRY(check_attention(out, q, k_cache, v_cache, block_tables, token_seq, positions));
  const int64_t n_tokens = q.shape[0], n_heads = q.shape[1], head_dim = q.shape[2];
  const int64_t n_blocks = k_cache.shape[0], block_size = k_cache.shape[1], n_kv_heads = k_cache.shape[2];
  const int64_t n_seqs = block_tables.shape[0], max_blocks = block_tables.shape[1];
  if (n_tokens == 0) return Status::Ok();
  XLAM_TRY(expect(n_seqs > 0 && max_blocks > 0 && n_blocks > 0 && block_size > 0, op,
                  "empty block tables or cache: no token could attend to anything"));
  XLAM_TRY(expect(head_dim > 0 && head_dim <= attn::kMaxHeadDim, op, "head_dim above 128 is not supported on CUDA"));
  constexpr int64_t kIntMax = 0x7fffffff;
  XLAM_TRY(expect(n_tokens * n_heads <= kIntMax / attn::kMaxHeadDim && n_blocks <= kIntMax && block_size <= kIntMax &&
                      n_seqs <= kIntMax && max_blocks <= kIntMax && n_heads <= 65535,
                  op, "shapes beyond the kernels' 32-bit index ranges"));

  attn::Args a{};
  a.out = static_cast<float*>(out.data);
  a.q = static_cast<const float*>(q.data);
  a.k_cache = static_cast<const float*>(k_cache.data);
  a.v_cache = static_cast<const float*>(v_cache.data);
  a.block_tables = static_cast<const int32_t*>(block_tables.data);
  a.token_seq = static_cast<const int32_t*>(token_seq.data);
  a.positions = static_cast<const int32_t*>(positions.data);
  attn::Geometry& g = a.g;
  g.n_tokens = static_cast<int>(n_tokens);
  g.n_heads = static_cast<int>(n_heads);
  g.n_kv_heads = static_cast<int>(n_kv_heads);
  g.head_dim = static_cast<int>(head_dim);
  g.group = static_cast<int>(n_heads / n_kv_heads);
  g.block_size = static_cast<int>(block_size);
  g.n_blocks = static_cast<int>(n_blocks);
  g.n_seqs = static_cast<int>(n_seqs);
  g.max_blocks = static_cast<int>(max_blocks);
  g.window = sliding_window > 0 ? sliding_window : 0;
  g.scale = scale;
  // Positions are i32 and must lie within the table: keys < min(max_blocks * block_size, 2^31).
  const int64_t ctx_len = std::min<int64_t>(max_blocks * block_size, kIntMax);
  const bool tc = ctx.cc >= 80;

  const bool decode = n_tokens == n_seqs;
  if (decode) {
    g.part_size = partition_size(ctx, g, ctx_len, true);
    g.n_parts = static_cast<int>((ctx_len + g.part_size - 1) / g.part_size);
    const size_t split_bytes =
        g.n_parts > 1 ? static_cast<size_t>(n_tokens * n_heads) * g.n_parts * (head_dim + 2) * sizeof(float) : 0;
    if (g.n_parts <= 65535 && split_bytes <= ctx.scratch_budget) {
      void* scratch_mem = nullptr;
      XLAM_TRY(scratch(ctx, std::max<size_t>(split_bytes, 256), &scratch_mem));
      float* part_o = static_cast<float*>(scratch_mem);
      float* part_ml = part_o + (g.n_parts > 1 ? static_cast<size_t>(n_tokens * n_heads) * g.n_parts * head_dim : 0);
      XLAM_TRY(launch_status(attn::launch_decode(ctx, a, tc, part_o, part_ml), op));
      if (g.n_parts > 1) XLAM_TRY(launch_status(attn::launch_merge(ctx, a, part_o, part_ml), op));
      return Status::Ok();
    }
    // Too many partials to keep: the prefill kernel folds them in the block (the same bits).
  }
  g.part_size = partition_size(ctx, g, ctx_len, false);
  g.n_parts = static_cast<int>((ctx_len + g.part_size - 1) / g.part_size);
  return launch_status(attn::launch_prefill(ctx, a, tc), op);
}

}  // namespace xlam::cuda
