// npm run bench:gpu: each CUDA kernel's achieved memory bandwidth or FLOP rate against the
// device's peak, at the shapes of Llama-xLAM-2-8b (4096 hidden, 32 query / 8 KV heads of 128,
// 14336 FFN) and xLAM-8x7b's experts. One JSON line per op on stdout; scripts/bench-gpu.mjs turns
// them into bench/README.md's table with the goals (H100: decode attention >= 65 % of HBM
// bandwidth, GEMV >= 75 %, bf16 GEMM >= 40 % of tensor peak, prefill attention >= 30 %).
//
//   xlam-cuda-bench [--smoke] [--peak-gbs N] [--peak-tflops N] [--iters N]
// --smoke: tiny shapes, for checking the bench itself runs (CI runs it under the emulator, whose
// timings mean nothing). Peaks default to the device's memory clock x bus width and, for the
// tensor rate, a table of known parts (else --peak-tflops is needed for the FLOP percentages).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "../ops.h"
#include "../workspace.h"

using namespace xlam;

namespace {

struct Dev {
  Tensor t;
  Dev(DType dtype, const Shape& shape) {
    t.dtype = dtype;
    t.shape = shape;
    if (cudaMalloc(&t.data, t.nbytes()) != cudaSuccess) {
      std::fprintf(stderr, "bench: cannot allocate %zu bytes\n", t.nbytes());
      std::exit(1);
    }
  }
  ~Dev() { cudaFree(t.data); }
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
};

// Fill with small random values of the tensor's type (host-generated, one copy).
void fill(const Dev& d, uint32_t seed, float scale = 0.5f, int32_t int_range = 0) {
  std::mt19937 rng(seed);
  const size_t n = static_cast<size_t>(d.t.numel());
  std::vector<uint8_t> bytes(d.t.nbytes());
  std::uniform_real_distribution<float> u(-scale, scale);
  for (size_t i = 0; i < n; ++i) {
    switch (d.t.dtype) {
      case DType::kF32: {
        const float v = u(rng);
        std::memcpy(&bytes[4 * i], &v, 4);
        break;
      }
      case DType::kF16:
      case DType::kBF16: {
        const float v = u(rng);
        uint32_t b;
        std::memcpy(&b, &v, 4);
        // bf16: the top half; f16: a normal number of magnitude < 1 built from the mantissa.
        const uint16_t h = d.t.dtype == DType::kBF16 ? static_cast<uint16_t>(b >> 16)
                                                     : static_cast<uint16_t>(0x3800 | ((b >> 13) & 0x3ff) | ((b >> 16) & 0x8000));
        std::memcpy(&bytes[2 * i], &h, 2);
        break;
      }
      case DType::kI32: {
        const int32_t v = int_range > 0 ? static_cast<int32_t>(rng() % static_cast<uint32_t>(int_range)) : 0;
        std::memcpy(&bytes[4 * i], &v, 4);
        break;
      }
    }
  }
  cudaMemcpy(d.t.data, bytes.data(), bytes.size(), cudaMemcpyHostToDevice);
}

void upload_i32(const Dev& d, const std::vector<int32_t>& v) {
  cudaMemcpy(d.t.data, v.data(), v.size() * 4, cudaMemcpyHostToDevice);
}

struct Peaks {
  double gbs = 0;     // bytes per ns
  double tflops = 0;  // bf16 dense tensor-core
};

// Milliseconds per call of fn, after warm-up.
double time_ms(const std::function<Status()>& fn, int iters) {
  for (int i = 0; i < 2; ++i) {
    Status st = fn();
    if (!st.ok()) {
      std::fprintf(stderr, "bench: %s\n", st.message.c_str());
      std::exit(1);
    }
  }
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  cudaEventRecord(a, nullptr);
  for (int i = 0; i < iters; ++i) fn();
  cudaEventRecord(b, nullptr);
  cudaEventSynchronize(b);
  float ms = 0;
  cudaEventElapsedTime(&ms, a, b);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms / iters;
}

void report(const char* op, const std::string& shape, double ms, double bytes, double flops, const Peaks& p,
            const char* bound, double goal) {
  const double gbs = bytes / (ms * 1e6), tflops = flops / (ms * 1e9);
  const double frac = std::strcmp(bound, "memory") == 0 ? (p.gbs > 0 ? gbs / p.gbs : 0) : (p.tflops > 0 ? tflops / p.tflops : 0);
  std::printf("{\"op\":\"%s\",\"shape\":\"%s\",\"ms\":%.4f,\"gbs\":%.1f,\"tflops\":%.2f,\"bound\":\"%s\",\"peak_fraction\":%.3f,\"goal\":%.2f}\n",
              op, shape.c_str(), ms, gbs, tflops, bound, frac, goal);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  Peaks peaks;
  int iters = 20;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--smoke")) smoke = true;
    else if (!std::strcmp(argv[i], "--peak-gbs") && i + 1 < argc) peaks.gbs = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--peak-tflops") && i + 1 < argc) peaks.tflops = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--iters") && i + 1 < argc) iters = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: xlam-cuda-bench [--smoke] [--peak-gbs N] [--peak-tflops N] [--iters N]\n");
      return 2;
    }
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    std::fprintf(stderr, "bench: no CUDA device\n");
    return 1;
  }
  if (peaks.gbs == 0) {
    int mem_khz = 0, bus_bits = 0;
    cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0);
    cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0);
    peaks.gbs = 2.0 * mem_khz * 1e3 * (bus_bits / 8.0) / 1e9;  // DDR: two transfers per clock
  }
  if (peaks.tflops == 0) {
    // Dense bf16 tensor-core peaks of known parts (vendor datasheets).
    const std::string name = prop.name;
    if (name.find("H100") != std::string::npos || name.find("H200") != std::string::npos) peaks.tflops = name.find("PCIe") != std::string::npos ? 756 : 989;
    else if (name.find("A100") != std::string::npos) peaks.tflops = 312;
    else if (name.find("L40S") != std::string::npos) peaks.tflops = 362;
    else if (name.find("L4") != std::string::npos) peaks.tflops = 121;
    else if (name.find("A10") != std::string::npos) peaks.tflops = 125;
  }
  std::printf("{\"device\":\"%s\",\"cc\":%d%d,\"sms\":%d,\"peak_gbs\":%.0f,\"peak_tflops\":%.0f,\"smoke\":%s}\n", prop.name,
              prop.major, prop.minor, prop.multiProcessorCount, peaks.gbs, peaks.tflops, smoke ? "true" : "false");

  cuda::Workspace ws;
  cuda::Context ctx;
  ctx.n_sms = prop.multiProcessorCount;
  ctx.cc = prop.major * 10 + prop.minor;
  ctx.workspace = &ws;
  if (smoke) iters = 1;

  // Llama-xLAM-2-8b: hidden 4096, 32 / 8 heads of 128, FFN 14336; smoke: tiny.
  const int64_t H = smoke ? 64 : 4096, FF = smoke ? 96 : 14336, HD = smoke ? 64 : 128;
  const int64_t NH = smoke ? 4 : 32, NKV = smoke ? 2 : 8, BS = 16;
  const int64_t batch = smoke ? 3 : 64, ctx_len = smoke ? 40 : 4096, prefill = smoke ? 33 : 4096, gemm_m = smoke ? 17 : 2048;

  {  // GEMV: one decode token through a down-projection-sized weight (bf16).
    Dev x(DType::kF32, {1, H}), w(DType::kBF16, {FF, H}), out(DType::kF32, {1, FF});
    fill(x, 1);
    fill(w, 2, 0.05f);
    const double ms = time_ms([&] { return cuda::matmul(ctx, out.t, x.t, w.t, nullptr); }, iters);
    report("matmul (GEMV)", "1x" + std::to_string(H) + " @ bf16 " + std::to_string(FF) + "x" + std::to_string(H), ms,
           static_cast<double>(w.t.nbytes()), 2.0 * FF * H, peaks, "memory", 0.75);
  }
  {  // GEMM: a prefill chunk through the same weight.
    Dev x(DType::kF32, {gemm_m, H}), w(DType::kBF16, {FF, H}), out(DType::kF32, {gemm_m, FF});
    fill(x, 3);
    fill(w, 4, 0.05f);
    const double ms = time_ms([&] { return cuda::matmul(ctx, out.t, x.t, w.t, nullptr); }, iters);
    report("matmul (GEMM)", std::to_string(gemm_m) + "x" + std::to_string(H) + " @ bf16 " + std::to_string(FF) + "x" + std::to_string(H), ms,
           static_cast<double>(w.t.nbytes() + x.t.nbytes() + out.t.nbytes()), 2.0 * gemm_m * FF * H, peaks, "compute", 0.40);
  }
  {  // Decode attention: `batch` sequences of ctx_len cached tokens, one new query each.
    const int64_t blocks_per_seq = (ctx_len + BS - 1) / BS, n_blocks = batch * blocks_per_seq;
    Dev kc(DType::kF32, {n_blocks, BS, NKV, HD}), vc(DType::kF32, {n_blocks, BS, NKV, HD});
    Dev q(DType::kF32, {batch, NH, HD}), out(DType::kF32, {batch, NH, HD});
    Dev tables(DType::kI32, {batch, blocks_per_seq}), seq(DType::kI32, {batch}), pos(DType::kI32, {batch});
    fill(kc, 5);
    fill(vc, 6);
    fill(q, 7);
    std::vector<int32_t> tb(static_cast<size_t>(n_blocks)), sq(static_cast<size_t>(batch)), ps(static_cast<size_t>(batch), static_cast<int32_t>(ctx_len - 1));
    for (int64_t i = 0; i < n_blocks; ++i) tb[static_cast<size_t>(i)] = static_cast<int32_t>((i * 7919) % n_blocks);  // scattered
    for (int64_t i = 0; i < batch; ++i) sq[static_cast<size_t>(i)] = static_cast<int32_t>(i);
    upload_i32(tables, tb);
    upload_i32(seq, sq);
    upload_i32(pos, ps);
    const double ms = time_ms([&] {
      return cuda::attention(ctx, out.t, q.t, kc.t, vc.t, tables.t, seq.t, pos.t, 1.0f / std::sqrt(static_cast<float>(HD)), 0);
    }, iters);
    report("attention (decode)", std::to_string(batch) + " seqs x " + std::to_string(ctx_len) + " tokens, " + std::to_string(NH) + "/" +
           std::to_string(NKV) + " heads of " + std::to_string(HD), ms, static_cast<double>(kc.t.nbytes() + vc.t.nbytes()),
           4.0 * batch * ctx_len * NH * HD, peaks, "memory", 0.65);
  }
  {  // Prefill attention: one sequence's prompt, causal.
    const int64_t blocks = (prefill + BS - 1) / BS;
    Dev kc(DType::kF32, {blocks, BS, NKV, HD}), vc(DType::kF32, {blocks, BS, NKV, HD});
    Dev q(DType::kF32, {prefill, NH, HD}), out(DType::kF32, {prefill, NH, HD});
    Dev tables(DType::kI32, {1, blocks}), seq(DType::kI32, {prefill}), pos(DType::kI32, {prefill});
    fill(kc, 8);
    fill(vc, 9);
    fill(q, 10);
    std::vector<int32_t> tb(static_cast<size_t>(blocks)), sq(static_cast<size_t>(prefill), 0), ps(static_cast<size_t>(prefill));
    for (int64_t i = 0; i < blocks; ++i) tb[static_cast<size_t>(i)] = static_cast<int32_t>(i);
    for (int64_t i = 0; i < prefill; ++i) ps[static_cast<size_t>(i)] = static_cast<int32_t>(i);
    upload_i32(tables, tb);
    upload_i32(seq, sq);
    upload_i32(pos, ps);
    const double ms = time_ms([&] {
      return cuda::attention(ctx, out.t, q.t, kc.t, vc.t, tables.t, seq.t, pos.t, 1.0f / std::sqrt(static_cast<float>(HD)), 0);
    }, iters);
    // Causal: half of the QK^T and PV products.
    report("attention (prefill)", "1 seq x " + std::to_string(prefill) + " tokens, causal", ms,
           static_cast<double>(q.t.nbytes() * 2 + kc.t.nbytes() + vc.t.nbytes()), 2.0 * prefill * prefill * NH * HD, peaks,
           "compute", 0.30);
  }
  {  // Memory-bound element-wise ops over a prefill chunk.
    Dev x(DType::kF32, {gemm_m, H}), res(DType::kF32, {gemm_m, H}), out(DType::kF32, {gemm_m, H}), w(DType::kBF16, {H});
    fill(x, 11);
    fill(res, 12);
    fill(w, 13);
    double ms = time_ms([&] { return cuda::add_rms_norm(ctx, out.t, res.t, x.t, w.t, 1e-5f); }, iters);
    report("add_rms_norm", std::to_string(gemm_m) + "x" + std::to_string(H), ms, 4.0 * x.t.nbytes(), 0, peaks, "memory", 0);
    Dev g(DType::kF32, {gemm_m, FF}), u(DType::kF32, {gemm_m, FF}), a(DType::kF32, {gemm_m, FF});
    fill(g, 14);
    fill(u, 15);
    ms = time_ms([&] { return cuda::silu_mul(ctx, a.t, g.t, u.t); }, iters);
    report("silu_mul", std::to_string(gemm_m) + "x" + std::to_string(FF), ms, 3.0 * g.t.nbytes(), 0, peaks, "memory", 0);
  }
  {  // Mixtral experts (xLAM-8x7b: 8 experts, top-2, hidden 4096, FFN 14336) for a decode batch.
    const int64_t E = smoke ? 4 : 8, T = smoke ? 5 : 64, EFF = smoke ? 96 : 14336;
    std::vector<Dev*> owned;
    std::vector<ExpertWeights> experts(static_cast<size_t>(E));
    for (int64_t e = 0; e < E; ++e) {
      Dev* w1 = new Dev(DType::kBF16, {EFF, H});
      Dev* w3 = new Dev(DType::kBF16, {EFF, H});
      Dev* w2 = new Dev(DType::kBF16, {H, EFF});
      fill(*w1, 20 + static_cast<uint32_t>(e), 0.05f);
      fill(*w3, 40 + static_cast<uint32_t>(e), 0.05f);
      fill(*w2, 60 + static_cast<uint32_t>(e), 0.05f);
      experts[static_cast<size_t>(e)] = {w1->t, w3->t, w2->t};
      owned.insert(owned.end(), {w1, w2, w3});
    }
    Dev x(DType::kF32, {T, H}), out(DType::kF32, {T, H}), ids(DType::kI32, {T, 2}), wts(DType::kF32, {T, 2});
    fill(x, 80);
    fill(ids, 81, 0, static_cast<int32_t>(E));
    fill(wts, 82);
    const double ms = time_ms([&] { return cuda::moe_experts(ctx, out.t, x.t, ids.t, wts.t, experts.data(), static_cast<int32_t>(E)); }, iters);
    report("moe_experts", std::to_string(T) + " tokens, " + std::to_string(E) + " experts top-2", ms,
           static_cast<double>(E) * 3.0 * EFF * H * 2, 2.0 * 3.0 * T * 2 * EFF * H, peaks, "memory", 0);
    for (Dev* d : owned) delete d;
  }
  return 0;
}
