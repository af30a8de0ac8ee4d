#include "backend-select.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "../src/backend-library.h"

namespace xlam::binding {

namespace {
// The folder holding this addon (xlam.node), where the backend libraries are installed beside it.
std::string addon_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&addon_dir), &info) == 0 || !info.dli_fname) return ".";
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}
}  // namespace

void ensure_library_backends() {
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string dir = addon_dir();
    // XLAM_CUDA_LIBRARY / XLAM_CUDA_EMULATED_LIBRARY point at other builds (tests, packaging).
    register_backend_library("cuda", env_or("XLAM_CUDA_LIBRARY", dir + "/libxlam-cuda.so"));
    register_backend_library("cuda-emulated", env_or("XLAM_CUDA_EMULATED_LIBRARY", dir + "/libxlam-cuda-emulated.so"));
  });
}

Status create_selected_backend(const std::string& requested, const BackendOptions& options,
                               std::unique_ptr<Backend>* out, std::string* note) {
  note->clear();
  if (requested != "auto") {
    if (requested == "cuda" || requested == "cuda-emulated") ensure_library_backends();
    return create_backend(requested, options, out);
  }
  ensure_library_backends();
  const BackendLibraryState cuda = backend_library_state("cuda");
  if (cuda.usable) {
    Status st = create_backend("cuda", options, out);
    if (st.ok()) return st;
    *note = "CUDA not used: " + st.message;
  } else {
    *note = "CUDA not used: " + cuda.reason;
  }
  return create_backend("cpu", options, out);
}

}  // namespace xlam::binding
