// The only glue between kernel sources and the two ways they are built (../shared/CUDA-EMULATION.md
// §9.3): under nvcc for a GPU, and under g++ with the emulation header force-included (cuda/emu/),
// where the same kernel source runs on CPU fibers for tests.
//
//   gpu::launch(kernel, grid, block, smem_bytes, stream, args...)  the one way to launch a kernel
//   CUDA_DYNAMIC_SHARED(T, name)                                   T* name -> dynamic shared memory
//   gpu::load_relaxed(p)                                           a racy read that TSan mode accepts
//   GPU_EMULATED                                                   1 under the emulator, else 0
//
// No `<<<...>>>` outside this file; no `extern __shared__` written directly.
#pragma once
#include <cuda_runtime.h>

#include <utility>

#if defined(CUDA_EMU)
#define GPU_EMULATED 1
#else
#define GPU_EMULATED 0
#endif

namespace gpu {

// Launch `kernel` on grid x block threads with `smem_bytes` of dynamic shared memory. The
// arguments convert to the kernel's parameter types as with <<<>>> (deduced separately).
// Returns the launch error (cudaSuccess when the launch was accepted).
template <typename... KArgs, typename... Args>
inline cudaError_t launch(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem_bytes,
                          cudaStream_t stream, Args&&... args) {
#if GPU_EMULATED
  return cuda_emu::launch(kernel, grid, block, smem_bytes, stream, std::forward<Args>(args)...);
#else
  kernel<<<grid, block, smem_bytes, stream>>>(std::forward<Args>(args)...);
  return cudaGetLastError();
#endif
}

#if GPU_EMULATED
template <typename T>
inline T load_relaxed(const T* p) {
  return cuda_emu::load_relaxed(p);
}
#else
template <typename T>
__device__ __forceinline__ T load_relaxed(const T* p) {
  return *reinterpret_cast<const volatile T*>(p);
}
#endif

}  // namespace gpu

#if GPU_EMULATED
#define CUDA_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(cuda_emu::dynamic_shared())
#else
#define CUDA_DYNAMIC_SHARED(T, name)                               \
  extern __shared__ __align__(16) unsigned char name##_bytes_[];   \
  T* name = reinterpret_cast<T*>(name##_bytes_)
#endif
