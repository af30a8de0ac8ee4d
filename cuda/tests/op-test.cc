#include "op-test.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "../../native/tests/check.h"
#if defined(CUDA_EMU)
#include "../emu/api.h"
#endif

namespace xlam::cuda_test {

namespace {
constexpr size_t kGuard = 64;          // bytes on each side of every device tensor
constexpr unsigned char kGuardByte = 0xA5;
}  // namespace

#if defined(CUDA_EMU)
const std::vector<std::string>& schedules() {
  static const std::vector<std::string> s = {"forward", "reverse", "random:12345"};
  return s;
}

bool use_schedule(const std::string& name) { return cuda_emu::set_schedule(name.c_str()); }
#else
// On a GPU (npm run test:gpu) the hardware schedules; each test runs once.
const std::vector<std::string>& schedules() {
  static const std::vector<std::string> s = {"device"};
  return s;
}

bool use_schedule(const std::string& name) { return name == "device"; }
#endif

DevTensor::DevTensor(DevTensor&& o) noexcept : t(o.t), base(o.base), guard(o.guard) { o.base = nullptr; }
DevTensor& DevTensor::operator=(DevTensor&& o) noexcept {
  if (this != &o) {
    if (base) cudaFree(base);
    t = o.t;
    base = o.base;
    guard = o.guard;
    o.base = nullptr;
  }
  return *this;
}
DevTensor::~DevTensor() {
  if (base) cudaFree(base);
}

bool DevTensor::guards_intact() const {
  if (!base) return true;
  std::vector<unsigned char> g(guard);
  for (const unsigned char* p : {static_cast<const unsigned char*>(base),
                                 static_cast<const unsigned char*>(base) + guard + t.nbytes()}) {
    if (cudaMemcpy(g.data(), p, guard, cudaMemcpyDeviceToHost) != cudaSuccess) return false;
    for (unsigned char b : g)
      if (b != kGuardByte) return false;
  }
  return true;
}

DevTensor dev(DType dtype, const Shape& shape, const void* host_bytes) {
  DevTensor d;
  d.t.dtype = dtype;
  d.t.shape = shape;
  d.guard = kGuard;
  const size_t n = d.t.nbytes();
  CHECK(cudaMalloc(&d.base, n + 2 * kGuard) == cudaSuccess);
  unsigned char* p = static_cast<unsigned char*>(d.base);
  d.t.data = p + kGuard;
  CHECK(cudaMemset(p, kGuardByte, kGuard) == cudaSuccess);
  CHECK(cudaMemset(p + kGuard + n, kGuardByte, kGuard) == cudaSuccess);
  if (host_bytes) {
    CHECK(cudaMemcpy(d.t.data, host_bytes, n, cudaMemcpyHostToDevice) == cudaSuccess);
  } else {
    CHECK(cudaMemset(d.t.data, 0xff, n) == cudaSuccess);  // NaN / -1: unwritten outputs show
  }
  return d;
}

DevTensor dev_f32(const Shape& shape, const std::vector<float>& v) {
  CHECK(static_cast<int64_t>(v.size()) == shape.numel());
  return dev(DType::kF32, shape, v.data());
}
DevTensor dev_i32(const Shape& shape, const std::vector<int32_t>& v) {
  CHECK(static_cast<int64_t>(v.size()) == shape.numel());
  return dev(DType::kI32, shape, v.data());
}
DevTensor dev_weight(DType dtype, const Shape& shape, const std::vector<float>& v) {
  CHECK(static_cast<int64_t>(v.size()) == shape.numel());
  const std::vector<uint8_t> bytes = encode(v, dtype);
  return dev(dtype, shape, bytes.data());
}

std::vector<float> read_f32(const DevTensor& t) {
  std::vector<float> v(static_cast<size_t>(t.t.numel()));
  CHECK(t.t.dtype == DType::kF32);
  CHECK(cudaMemcpy(v.data(), t.t.data, v.size() * 4, cudaMemcpyDeviceToHost) == cudaSuccess);
  return v;
}
std::vector<int32_t> read_i32(const DevTensor& t) {
  std::vector<int32_t> v(static_cast<size_t>(t.t.numel()));
  CHECK(t.t.dtype == DType::kI32);
  CHECK(cudaMemcpy(v.data(), t.t.data, v.size() * 4, cudaMemcpyDeviceToHost) == cudaSuccess);
  return v;
}

Oracle::~Oracle() {
  for (Tensor& t : owned) be.release(&t);
}
Tensor Oracle::host(DType dtype, const Shape& shape, const void* bytes) {
  Tensor t;
  CHECK(be.alloc(dtype, shape, &t).ok());
  if (bytes) CHECK(be.upload(t, bytes, t.nbytes()).ok());
  else std::memset(t.data, 0, t.nbytes());
  owned.push_back(t);
  return t;
}
Tensor Oracle::f32(const Shape& shape, const std::vector<float>& v) { return host(DType::kF32, shape, v.data()); }
Tensor Oracle::i32(const Shape& shape, const std::vector<int32_t>& v) { return host(DType::kI32, shape, v.data()); }
Tensor Oracle::weight(DType dtype, const Shape& shape, const std::vector<float>& v) {
  const std::vector<uint8_t> bytes = encode(v, dtype);
  return host(dtype, shape, bytes.data());
}
std::vector<float> Oracle::read_f32(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  CHECK(be.download(v.data(), t, v.size() * 4).ok());
  return v;
}
std::vector<int32_t> Oracle::read_i32(const Tensor& t) {
  std::vector<int32_t> v(static_cast<size_t>(t.numel()));
  CHECK(be.download(v.data(), t, v.size() * 4).ok());
  return v;
}

std::vector<uint8_t> encode(const std::vector<float>& v, DType dtype) {
  std::vector<uint8_t> out(v.size() * dtype_size(dtype));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (dtype) {
      case DType::kF32:
        std::memcpy(out.data() + 4 * i, &v[i], 4);
        break;
      case DType::kF16: {
        const __half h = __float2half_rn(v[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
        break;
      }
      case DType::kBF16: {
        const __nv_bfloat16 h = __float2bfloat16_rn(v[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
        break;
      }
      case DType::kI32: {
        const int32_t x = static_cast<int32_t>(v[i]);
        std::memcpy(out.data() + 4 * i, &x, 4);
        break;
      }
    }
  }
  return out;
}

std::vector<float> randn(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

Ctx::Ctx(int cc, bool batch_invariant) {
  ctx.stream = nullptr;
  ctx.cc = cc;
  ctx.batch_invariant = batch_invariant;
  cudaDeviceProp prop{};
  const bool have = cudaGetDeviceProperties(&prop, 0) == cudaSuccess;
  ctx.n_sms = have ? prop.multiProcessorCount : 1;
#if !defined(CUDA_EMU)
  // A real device runs only the kernels its architecture has (cc 80 asked on an sm_75: SIMT).
  if (have) ctx.cc = std::min(cc, prop.major * 10 + prop.minor);
#endif
  ctx.workspace = &ws;
}

double nmse(const std::vector<float>& got, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size() && i < ref.size(); ++i) {
    const double d = static_cast<double>(got[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return den > 0 ? num / den : num;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& ref, double bound, const std::string& what) {
  CHECK_MSG(got.size() == ref.size(), "%s: %zu values, expected %zu", what.c_str(), got.size(), ref.size());
  size_t bad = 0, first = got.size();
  for (size_t i = 0; i < got.size() && i < ref.size(); ++i) {
    if (std::isnan(got[i]) != std::isnan(ref[i]) || std::isinf(got[i]) != std::isinf(ref[i])) {
      if (bad++ == 0) first = i;
    }
  }
  CHECK_MSG(bad == 0, "%s: %zu values NaN/Inf where the reference is not (first at %zu: %g vs %g)", what.c_str(), bad,
            first, first < got.size() ? got[first] : 0.0, first < ref.size() ? ref[first] : 0.0);
  const double e = nmse(got, ref);
  CHECK_MSG(e <= bound, "%s: normalized error %.3g above %.3g", what.c_str(), e, bound);
}

WorstError::~WorstError() {
  for (const auto& kv : max_) std::printf("    max nmse %-34s %.3g\n", kv.first.c_str(), kv.second);
}

void WorstError::close(const std::vector<float>& got, const std::vector<float>& ref, double bound,
                       const std::string& what, const std::string& key) {
  expect_close(got, ref, bound, what);
  double& m = max_[key];
  m = std::max(m, nmse(got, ref));
}

void expect_equal(const std::vector<int32_t>& got, const std::vector<int32_t>& ref, const std::string& what) {
  CHECK_MSG(got.size() == ref.size(), "%s: %zu values, expected %zu", what.c_str(), got.size(), ref.size());
  for (size_t i = 0; i < got.size() && i < ref.size(); ++i) {
    if (got[i] != ref[i]) {
      CHECK_MSG(false, "%s: index %zu is %d, expected %d", what.c_str(), i, got[i], ref[i]);
      return;
    }
  }
}

void expect_ok(const Status& st, const std::string& what) {
  CHECK_MSG(st.ok(), "%s: %s", what.c_str(), st.message.c_str());
}

void expect_guards(std::initializer_list<const DevTensor*> ts, const std::string& what) {
  int i = 0;
  for (const DevTensor* t : ts) {
    CHECK_MSG(t->guards_intact(), "%s: guard bytes of tensor %d overwritten", what.c_str(), i);
    ++i;
  }
}

}  // namespace xlam::cuda_test
