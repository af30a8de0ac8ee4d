#include "cpu-register.h"

#include "../src/backend-registry.h"
#include "cpu-backend.h"

namespace xlam::cpu {

void register_cpu_backends() {
  for (bool reference : {false, true}) {
    register_backend(reference ? "cpu-reference" : "cpu",
                     [reference](const BackendOptions& o, std::unique_ptr<Backend>* out) {
                       CpuOptions co;
                       co.threads = o.threads;
                       co.priority = o.priority;
                       co.reference = reference;
                       *out = std::make_unique<CpuBackend>(co);
                       return Status::Ok();
                     });
  }
}

}  // namespace xlam::cpu
