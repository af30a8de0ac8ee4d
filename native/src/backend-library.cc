#include "backend-library.h"

#include <dlfcn.h>
#include <unistd.h>

#include <mutex>

namespace xlam {

namespace {

using AbiFn = const char* (*)();
using ScoreFn = int (*)(char*, size_t);
using CreateFn = int (*)(const BackendOptions*, Backend**, char*, size_t);
using DescribeFn = void (*)(char*, size_t);

struct Library {
  BackendLibraryState state;
  void* handle = nullptr;  // kept open for the life of the process: backends' code lives there
  CreateFn create = nullptr;
};

std::mutex& libraries_mutex() {
  static std::mutex mu;
  return mu;
}
std::vector<Library>& libraries() {
  static std::vector<Library> libs;
  return libs;
}

Library load(const std::string& name, const std::string& path) {
  Library lib;
  lib.state.name = name;
  lib.state.path = path;
  if (access(path.c_str(), F_OK) != 0) {
    lib.state.reason = "the backend library is not installed (" + path + " is missing)";
    return lib;
  }
  dlerror();
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* err = dlerror();  // names the file
    lib.state.reason = std::string("cannot load the backend library: ") + (err ? err : path);
    return lib;
  }
  auto abi = reinterpret_cast<AbiFn>(dlsym(h, "xlam_cuda_abi"));
  auto score = reinterpret_cast<ScoreFn>(dlsym(h, "xlam_cuda_score"));
  auto create = reinterpret_cast<CreateFn>(dlsym(h, "xlam_cuda_create"));
  auto describe = reinterpret_cast<DescribeFn>(dlsym(h, "xlam_cuda_describe"));
  if (!abi || !score || !create || !describe) {
    lib.state.reason = path + " is not an xlam backend library (its C interface is missing)";
    dlclose(h);
    return lib;
  }
  if (std::string(abi()) != kBackendAbi) {
    lib.state.reason = path + " was built for " + abi() + ", this addon needs " + kBackendAbi +
                       " (install the library that came with this version)";
    dlclose(h);
    return lib;
  }
  char buf[512] = {0};
  lib.state.score = score(buf, sizeof buf);
  if (lib.state.score <= 0) {
    lib.state.reason = buf[0] ? buf : "the library reports no usable device";
    lib.handle = h;  // keep it: its state may be asked again, and unloading CUDA runtimes is fragile
    return lib;
  }
  char dev[512] = {0};
  describe(dev, sizeof dev);
  lib.state.device = dev;
  lib.state.usable = true;
  lib.handle = h;
  lib.create = create;
  return lib;
}

}  // namespace

BackendLibraryState register_backend_library(const std::string& name, const std::string& path) {
  Library lib = load(name, path);
  const BackendLibraryState state = lib.state;
  {
    std::lock_guard<std::mutex> lock(libraries_mutex());
    libraries().push_back(lib);
  }
  CreateFn create = lib.create;
  register_backend(name, [state, create](const BackendOptions& options, std::unique_ptr<Backend>* out) {
    if (!create) return Status::Error(Code::kBackendUnavailable, "backend '" + state.name + "': " + state.reason);
    char err[1024] = {0};
    Backend* be = nullptr;
    if (create(&options, &be, err, sizeof err) != 0 || !be)
      return Status::Error(Code::kBackendUnavailable,
                           "backend '" + state.name + "': " + (err[0] ? err : "the library could not create it"));
    out->reset(be);
    return Status::Ok();
  });
  return state;
}

BackendLibraryState backend_library_state(const std::string& name) {
  std::lock_guard<std::mutex> lock(libraries_mutex());
  for (auto it = libraries().rbegin(); it != libraries().rend(); ++it)
    if (it->state.name == name) return it->state;
  BackendLibraryState none;
  none.name = name;
  none.reason = "no backend library named '" + name + "' was found";
  return none;
}

}  // namespace xlam
