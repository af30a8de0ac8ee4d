// The C interface of the backend library (native/src/backend-library.h): what the addon calls
// after dlopen. In the real build, score() asks the CUDA runtime (linked statically) for a driver
// and a device of compute capability 7.5 or newer; in the emulated build there is always one
// device, the emulator.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../native/src/backend-library.h"
#include "cuda-backend.h"

namespace {

void put(char* out, size_t size, const std::string& s) {
  if (!out || size == 0) return;
  std::snprintf(out, size, "%s", s.c_str());
}

constexpr int kMinCc = 75;  // the oldest architecture built (cuda/nvcc/CMakeLists.txt)

// The device to run on: XLAM_CUDA_DEVICE, else the one with the highest compute capability, then
// the most SMs. -1 and a reason when there is none.
int pick_device(std::string* reason) {
#if !defined(CUDA_EMU)
  if (void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    dlclose(h);
  } else {
    *reason = "no NVIDIA driver: libcuda.so.1 cannot be loaded";
    return -1;
  }
  int driver = 0;
  if (cudaDriverGetVersion(&driver) == cudaSuccess && driver < CUDART_VERSION) {
    *reason = "the NVIDIA driver supports CUDA " + std::to_string(driver / 1000) + "." +
              std::to_string(driver % 1000 / 10) + ", this build needs CUDA " + std::to_string(CUDART_VERSION / 1000) +
              "." + std::to_string(CUDART_VERSION % 1000 / 10) + " (update the driver)";
    return -1;
  }
#endif
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess || n == 0) {
    cudaGetLastError();
    *reason = err == cudaSuccess ? "no CUDA device" : std::string("no usable CUDA device: ") + cudaGetErrorString(err);
    return -1;
  }
  if (const char* want = std::getenv("XLAM_CUDA_DEVICE"); want && *want) {
    char* end = nullptr;
    const long d = std::strtol(want, &end, 10);
    if (*end || d < 0 || d >= n) {
      *reason = std::string("XLAM_CUDA_DEVICE=") + want + ": there are " + std::to_string(n) + " devices";
      return -1;
    }
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, static_cast<int>(d)) != cudaSuccess || p.major * 10 + p.minor < kMinCc) {
      *reason = "device " + std::to_string(d) + " has compute capability " + std::to_string(p.major) + "." +
                std::to_string(p.minor) + ", the CUDA backend needs 7.5 or newer";
      return -1;
    }
    return static_cast<int>(d);
  }
  int best = -1, best_cc = 0, best_sms = 0;
  std::string old;
  for (int d = 0; d < n; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
    const int cc = p.major * 10 + p.minor;
    if (cc < kMinCc) {
      old = std::string(p.name) + " has compute capability " + std::to_string(p.major) + "." + std::to_string(p.minor) +
            ", the CUDA backend needs 7.5 or newer";
      continue;
    }
    if (cc > best_cc || (cc == best_cc && p.multiProcessorCount > best_sms)) {
      best = d;
      best_cc = cc;
      best_sms = p.multiProcessorCount;
    }
  }
  if (best < 0) *reason = old.empty() ? "no CUDA device answered" : old;
  return best;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) const char* xlam_cuda_abi(void) { return xlam::kBackendAbi; }

__attribute__((visibility("default"))) int xlam_cuda_score(char* reason, size_t size) {
  std::string why;
  const int d = pick_device(&why);
  if (d < 0) {
    put(reason, size, why);
    return 0;
  }
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, d) != cudaSuccess) {
    put(reason, size, "the device's properties cannot be read");
    return 0;
  }
  return p.major * 10 + p.minor;
}

__attribute__((visibility("default"))) void xlam_cuda_describe(char* out, size_t size) {
  std::string why;
  const int d = pick_device(&why);
  cudaDeviceProp p{};
  if (d < 0 || cudaGetDeviceProperties(&p, d) != cudaSuccess) {
    put(out, size, why);
    return;
  }
  put(out, size, xlam::cuda::describe_device(p));
}

__attribute__((visibility("default"))) int xlam_cuda_create(const xlam::BackendOptions* options, xlam::Backend** out,
                                                           char* err, size_t size) {
  (void)options;
  try {
    std::string why;
    const int d = pick_device(&why);
    if (d < 0) {
      put(err, size, why);
      return 1;
    }
    xlam::cuda::CudaOptions co;
    co.device = d;
#if defined(CUDA_EMU)
    co.name = "cuda-emulated";
#endif
    std::unique_ptr<xlam::cuda::CudaBackend> be;
    xlam::Status st = xlam::cuda::CudaBackend::create(co, &be);
    if (!st.ok()) {
      put(err, size, st.message);
      return 1;
    }
    *out = be.release();
    return 0;
  } catch (const std::exception& e) {
    put(err, size, std::string("cuda backend: ") + e.what());
    return 1;
  } catch (...) {
    put(err, size, "cuda backend: unknown exception");
    return 1;
  }
}

}  // extern "C"
