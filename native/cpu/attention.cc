#include <algorithm>
#include <cmath>
#include <vector>

#include "ops.h"

namespace xlam::cpu {

namespace {

struct Geometry {
  int64_t n_tokens, n_heads, head_dim, n_kv_heads, block_size, n_blocks, n_seqs, max_blocks;
};

// Pointer to the K (or V) row of kv head `kvh` at position `pos` of a sequence.
inline const float* cache_row(const float* cache, const int32_t* table, const Geometry& g, int64_t pos,
                              int64_t kvh) {
  const int64_t block = table[pos / g.block_size];
  return cache + ((block * g.block_size + pos % g.block_size) * g.n_kv_heads + kvh) * g.head_dim;
}

// Calls fn(first cache row, positions p0..p0+n) for each run of positions [first, last] that lies
// in one block of the sequence's table (rows in a block are contiguous, n_kv_heads * head_dim apart).
template <class Fn>
void for_each_block_run(const Geometry& g, const int32_t* table, int64_t first, int64_t last, Fn&& fn) {
  for (int64_t p = first; p <= last;) {
    const int64_t off = p % g.block_size, n = std::min(g.block_size - off, last + 1 - p);
    fn(static_cast<int64_t>(table[p / g.block_size]) * g.block_size + off, p, n);
    p += n;
  }
}

// One token, all query heads of one kv head: scores block by block, softmax, weighted values.
void attend_fast(const Kernels& kern, float* out, const float* q, const float* kc, const float* vc,
                 const int32_t* table, const Geometry& g, int64_t kvh, int64_t first, int64_t last, float scale,
                 std::vector<float>& scores) {
  const int64_t group = g.n_heads / g.n_kv_heads, hd = g.head_dim, len = last - first + 1;
  const int64_t stride = g.n_kv_heads * hd;
  const float* qg = q + kvh * group * hd;
  float* og = out + kvh * group * hd;
  scores.resize(static_cast<size_t>(group * len));
  for_each_block_run(g, table, first, last, [&](int64_t row, int64_t p, int64_t n) {
    kern.qk(scores.data() + (p - first), len, qg, group, kc + row * stride + kvh * hd, stride, n, hd, scale);
  });
  for (int64_t h = 0; h < group; ++h) {
    float* s = scores.data() + h * len;
    float mx = -INFINITY;
    for (int64_t i = 0; i < len; ++i) mx = std::max(mx, s[i]);
    float sum = 0;
    for (int64_t i = 0; i < len; ++i) {
      s[i] = std::exp(s[i] - mx);
      sum += s[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < len; ++i) s[i] *= inv;
  }
  std::fill(og, og + group * hd, 0.0f);
  for_each_block_run(g, table, first, last, [&](int64_t row, int64_t p, int64_t n) {
    kern.pv(og, scores.data() + (p - first), len, group, vc + row * stride + kvh * hd, stride, n, hd);
  });
}

void attend_reference(float* out, const float* q, const float* kc, const float* vc, const int32_t* table,
                      const Geometry& g, int64_t qh, int64_t first, int64_t last, float scale) {
  const int64_t group = g.n_heads / g.n_kv_heads, hd = g.head_dim, kvh = qh / group;
  std::vector<double> s(static_cast<size_t>(last - first + 1));
  double mx = -INFINITY;
  for (int64_t p = first; p <= last; ++p) {
    const float* kr = cache_row(kc, table, g, p, kvh);
    double acc = 0;
    for (int64_t i = 0; i < hd; ++i) acc += static_cast<double>(q[qh * hd + i]) * kr[i];
    s[p - first] = acc * scale;
    mx = std::max(mx, s[p - first]);
  }
  double sum = 0;
  for (double& x : s) sum += (x = std::exp(x - mx));
  for (int64_t i = 0; i < hd; ++i) {
    double acc = 0;
    for (int64_t p = first; p <= last; ++p) acc += s[p - first] / sum * cache_row(vc, table, g, p, kvh)[i];
    out[qh * hd + i] = static_cast<float>(acc);
  }
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
  Geometry g{q.shape[0], q.shape[1], q.shape[2], k_cache.shape[2], k_cache.shape[1],
             k_cache.shape[0], block_tables.shape[0], block_tables.shape[1]};
  const int32_t* seq = static_cast<const int32_t*>(token_seq.data);
  const int32_t* pos = static_cast<const int32_t*>(positions.data);
  const int32_t* tables = static_cast<const int32_t*>(block_tables.data);
  for (int64_t t = 0; t < g.n_tokens; ++t) {
    if (seq[t] < 0 || seq[t] >= g.n_seqs) return expect(false, op, "token_seq out of range");
    if (pos[t] < 0 || pos[t] / g.block_size >= g.max_blocks) return expect(false, op, "position beyond the block table");
    const int32_t* table = tables + seq[t] * g.max_blocks;
    for (int64_t b = 0; b <= pos[t] / g.block_size; ++b)
      if (table[b] < 0 || table[b] >= g.n_blocks) return expect(false, op, "block table entry out of range");
  }
  const float* qd = static_cast<const float*>(q.data);
  const float* kc = static_cast<const float*>(k_cache.data);
  const float* vc = static_cast<const float*>(v_cache.data);
  float* od = static_cast<float*>(out.data);
  auto span = [&](int64_t t, int64_t* first, int64_t* last) {
    *last = pos[t];
    *first = sliding_window > 0 ? std::max<int64_t>(0, pos[t] - sliding_window + 1) : 0;
  };
  const int64_t row = g.n_heads * g.head_dim;
  if (ctx.reference) {
    for (int64_t t = 0; t < g.n_tokens; ++t) {
      int64_t first, last;
      span(t, &first, &last);
      for (int64_t h = 0; h < g.n_heads; ++h)
        attend_reference(od + t * row, qd + t * row, kc, vc, tables + seq[t] * g.max_blocks, g, h, first, last, scale);
    }
    return Status::Ok();
  }
  ctx.pool->parallel_for(g.n_tokens * g.n_kv_heads, [&](int64_t b, int64_t e) {
    std::vector<float> scores;
    for (int64_t i = b; i < e; ++i) {
      const int64_t t = i / g.n_kv_heads, kvh = i % g.n_kv_heads;
      int64_t first, last;
      span(t, &first, &last);
      attend_fast(*ctx.kernels, od + t * row, qd + t * row, kc, vc, tables + seq[t] * g.max_blocks, g, kvh, first, last, scale, scores);
    }
  });
  return Status::Ok();
}

}  // namespace xlam::cpu
