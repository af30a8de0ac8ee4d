// The CUDA emulation header: force-included first into every .cu of the emulated build
// (g++ -x c++ -include cuda/emu/cuda-emu.h), it turns a CUDA source into a CPU program whose
// threads run as fibers (cuda/emu/README.md, CUDA-EMULATION.md §1.1).
//
// Order matters: the standard headers first (libstdc++ spells __attribute__((__noinline__)), so
// the keyword macros must come after it), then the CUDA keywords, then the toolkit's own
// cuda_runtime.h / cuda_fp16.h / cuda_bf16.h (crt/host_defines.h keeps keyword macros that exist
// when __CUDACC__ is not defined), then the emulated device side.
#pragma once
#ifndef CUDA_EMU
#define CUDA_EMU 1
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "api.h"

// `#pragma unroll` is CUDA; g++ would warn about it in every kernel file.
#pragma GCC diagnostic ignored "-Wunknown-pragmas"

#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __grid_constant__
#define __launch_bounds__(...)
#define __noinline__ __attribute__((noinline))
#define __forceinline__ inline __attribute__((always_inline))
// One object per kernel (or template instantiation), shared by the threads of the running block;
// the runtime fills the whole section with 0xff before every block (uninitialised reads show).
#define __shared__ static __attribute__((section("cuda_emu_smem")))

#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>

#include "device.h"
#include "intrinsics.h"
#include "atomics.h"
#include "half-math.h"
#include "launch.h"
#include "ptx.h"
#include "wmma.h"
