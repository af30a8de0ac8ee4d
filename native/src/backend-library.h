// Backends that live in shared libraries loaded at run time (the CUDA backend, cuda/library.cc):
// the addon stays loadable on machines without a GPU, driver or CUDA runtime, and a library that
// cannot run says why instead of failing the process.
//
// The C interface every backend library exports (cuda/exports.map keeps everything else hidden):
//   const char* xlam_cuda_abi(void)
//       kBackendAbi of the sources it was built from; the loader refuses any other.
//   int xlam_cuda_score(char* reason, size_t size)
//       0 when it cannot run here (no driver, no device, unsupported compute capability), with
//       the reason written to `reason`; > 0 when it can (higher = better device).
//   int xlam_cuda_create(const xlam::BackendOptions* options, xlam::Backend** out, char* err, size_t size)
//       0 and a new backend (the caller owns it; deleting it releases the device), or non-zero
//       with the error written to `err`.
//   void xlam_cuda_describe(char* out, size_t size)
//       The device it would use ("NVIDIA H100 80GB HBM3, sm_90, 132 SMs"), for engine.info().
// Backend objects cross the boundary as C++ objects, so library and addon must come from the same
// sources (kBackendAbi) and the same C++ ABI (both use libstdc++'s new string ABI).
#pragma once
#include <string>
#include <vector>

#include "backend-registry.h"

namespace xlam {

// Changes whenever backend.h, tensor.h, status.h or backend-registry.h change in a way that
// breaks a library built from older sources.
inline constexpr const char* kBackendAbi = "xlam-backend-abi-2";

struct BackendLibraryState {
  std::string name;    // the backend name it registers ("cuda", "cuda-emulated")
  std::string path;    // the file it was loaded from, or looked for
  bool usable = false;
  int score = 0;
  std::string reason;  // why it is not usable ("" when it is)
  std::string device;  // the device it runs on, when usable
};

// Load the library at `path` and register backend `name`. Always registers the name: when the
// library is missing, fails to load, has another ABI or scores 0, creating the backend fails
// with BACKEND_UNAVAILABLE and the reason. Returns what it found.
BackendLibraryState register_backend_library(const std::string& name, const std::string& path);

// The state of a registered library backend; usable=false and a reason when none has that name.
BackendLibraryState backend_library_state(const std::string& name);

}  // namespace xlam
