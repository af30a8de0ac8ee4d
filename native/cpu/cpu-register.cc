#include "cpu-register.h"

#include <cstdlib>
#include <string>

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
                       // XLAM_CPU_ISA pins the fast path's kernels (generic | avx2 | avx512 | amx | auto),
                       // e.g. for results bit-identical across machines of different generations.
                       if (const char* isa = std::getenv("XLAM_CPU_ISA"); isa && *isa) {
                         if (!parse_isa(isa, &co.isa))
                           return Status::Error(Code::kInvalidArgument, std::string("XLAM_CPU_ISA=") + isa +
                                                                            ": expected auto, generic, avx2, avx512 or amx");
                         if (!isa_supported(co.isa))
                           return Status::Error(Code::kInvalidArgument, std::string("XLAM_CPU_ISA=") + isa +
                                                                            ": this CPU, its OS or this build lacks it");
                       }
                       *out = std::make_unique<CpuBackend>(co);
                       return Status::Ok();
                     });
  }
}

}  // namespace xlam::cpu
