// Which backend an engine runs on. The CPU backends are built into the addon; the CUDA backends
// are shared libraries next to it (libxlam-cuda.so, libxlam-cuda-emulated.so), loaded the first
// time a backend is chosen, so importing the package never touches a GPU driver.
#pragma once
#include <memory>
#include <string>

#include "../src/backend-registry.h"

namespace xlam::binding {

// Register the library backends once (thread-safe; later calls return at once).
void ensure_library_backends();

// Create the backend `requested` names. "auto" is CUDA when the CUDA library finds a usable
// device, else the CPU; *note then says why CUDA is not used ("" when it is).
Status create_selected_backend(const std::string& requested, const BackendOptions& options,
                               std::unique_ptr<Backend>* out, std::string* note);

}  // namespace xlam::binding
