// test-backend-ops for the CUDA backend (../shared/STYLE.md, llama.cpp's test-backend-ops): each
// CUDA op, run under the emulator, against the CPU backend's reference op on the same inputs.
//   - Device tensors are cudaMalloc'd with guard bytes on both sides (a pattern checked after
//     every op); under ASan the allocation itself is exact-size, so overruns are reports too.
//   - Every comparison runs under the three schedules (forward, reverse, random:SEED) and, where
//     an op has a SIMT twin of a tensor-core kernel, with cc 75 (SIMT) and cc 80 (mma.sync).
//   - Float outputs: normalized error sum (a-b)^2 / sum b^2 below the op's bound; integer outputs
//     exactly equal. Test names carry shapes, schedule and seed (CUDA-EMULATION.md §9.3 rule 10).
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "../../native/cpu/cpu-backend.h"
#include "../ops.h"
#include "../workspace.h"

namespace xlam::cuda_test {

// The emulator's schedules every kernel test runs under: {"forward", "reverse", "random:12345"};
// on a real GPU (npm run test:gpu) {"device"}.
const std::vector<std::string>& schedules();
// Select a schedule by name (cuda_emu::set_schedule); false if the emulator refuses it.
bool use_schedule(const std::string& name);

// A device tensor with guard bytes around it.
struct DevTensor {
  Tensor t;                    // the view ops see
  void* base = nullptr;        // the allocation: guard | data | guard
  size_t guard = 0;
  DevTensor() = default;
  DevTensor(const DevTensor&) = delete;
  DevTensor& operator=(const DevTensor&) = delete;
  DevTensor(DevTensor&& o) noexcept;
  DevTensor& operator=(DevTensor&& o) noexcept;
  ~DevTensor();
  // True when both guards still hold their pattern.
  bool guards_intact() const;
};

// Allocate and fill from host bytes (nullptr: fill with a NaN pattern, so unwritten outputs show).
DevTensor dev(DType dtype, const Shape& shape, const void* host_bytes = nullptr);
DevTensor dev_f32(const Shape& shape, const std::vector<float>& v);
DevTensor dev_i32(const Shape& shape, const std::vector<int32_t>& v);
// Weights as dtype (f32, f16 round-to-nearest-even, bf16 round-to-nearest-even).
DevTensor dev_weight(DType dtype, const Shape& shape, const std::vector<float>& v);
std::vector<float> read_f32(const DevTensor& t);
std::vector<int32_t> read_i32(const DevTensor& t);

// The same values as host tensors on the CPU reference backend.
struct Oracle {
  cpu::CpuBackend be{cpu::CpuOptions{1, true}};
  std::vector<Tensor> owned;
  ~Oracle();
  Tensor host(DType dtype, const Shape& shape, const void* bytes);
  Tensor f32(const Shape& shape, const std::vector<float>& v);
  Tensor i32(const Shape& shape, const std::vector<int32_t>& v);
  Tensor weight(DType dtype, const Shape& shape, const std::vector<float>& v);
  std::vector<float> read_f32(const Tensor& t);
  std::vector<int32_t> read_i32(const Tensor& t);
};

// Host bytes of `v` stored as dtype (RNE for f16 and bf16): the same bytes on both sides.
std::vector<uint8_t> encode(const std::vector<float>& v, DType dtype);
std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f);

// A CUDA context over the emulated device with its own workspace.
struct Ctx {
  cuda::Workspace ws;
  cuda::Context ctx;
  explicit Ctx(int cc = 80, bool batch_invariant = true);
};

double nmse(const std::vector<float>& got, const std::vector<float>& ref);
// CHECKs nmse(got, ref) <= bound (and no NaN where ref has none), printing `what` on failure.
void expect_close(const std::vector<float>& got, const std::vector<float>& ref, double bound, const std::string& what);

// expect_close that also keeps the largest normalized error per key (a kernel path), printed when
// the test case ends: the measured figures.
class WorstError {
 public:
  WorstError() = default;
  WorstError(const WorstError&) = delete;
  WorstError& operator=(const WorstError&) = delete;
  ~WorstError();
  void close(const std::vector<float>& got, const std::vector<float>& ref, double bound, const std::string& what,
             const std::string& key);

 private:
  std::map<std::string, double> max_;
};
void expect_equal(const std::vector<int32_t>& got, const std::vector<int32_t>& ref, const std::string& what);
// CHECKs the op succeeded (printing its message) and every listed tensor's guards are intact.
void expect_ok(const Status& st, const std::string& what);
void expect_guards(std::initializer_list<const DevTensor*> ts, const std::string& what);

}  // namespace xlam::cuda_test
