// Backends by name. The binding registers the CPU backend at start-up; the CUDA backend will
// register itself when its shared library loads and reports a usable device.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "thread-priority.h"

namespace xlam {

struct BackendOptions {
  int threads = 0;  // 0: all cores
  ComputePriority priority = ComputePriority::kIdle;  // of compute threads
};

using BackendFactory = std::function<Status(const BackendOptions&, std::unique_ptr<Backend>*)>;

void register_backend(const std::string& name, BackendFactory factory);
Status create_backend(const std::string& name, const BackendOptions& options, std::unique_ptr<Backend>* out);
std::vector<std::string> backend_names();

}  // namespace xlam
