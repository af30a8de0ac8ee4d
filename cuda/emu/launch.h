// Kernel launches and the host-API templates that cuda_runtime.h declares only under nvcc.
// Included by cuda-emu.h; kernels launch through gpu::launch (cuda/common/gpu-compat.h).
#pragma once
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace cuda_emu {
namespace detail {

// A top-level pointer argument, checked at launch to lie inside a cudaMalloc allocation.
struct PtrArg {
  const void* p;
  int index;  // 0-based argument position
};

// One launch, type-erased for the runtime (scheduler.cc).
struct LaunchDesc {
  const void* kernel;  // identity: cudaFuncSetAttribute limits, name for diagnostics
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
  // Runs the kernel body for the current CUDA thread with its own copy of the arguments.
  void (*run)(const void* holder);
  const void* holder;
  const PtrArg* ptrs;
  int nptrs;
};
cudaError_t launch(const LaunchDesc& d);

template <class K, class Tuple>
struct Holder {
  K kernel;
  Tuple params;  // converted once, at the launch, to the kernel's parameter types
};

template <class K, class Tuple>
void run_thread(const void* holder) {
  const auto* h = static_cast<const Holder<K, Tuple>*>(holder);
  Tuple mine(h->params);  // by-value parameters: every CUDA thread gets its own copy
  std::apply(h->kernel, mine);
}

template <class E>
constexpr bool is_data_pointer = std::is_pointer<E>::value && !std::is_function<std::remove_pointer_t<E>>::value;

template <class Tuple, size_t... I>
int collect_pointers(const Tuple& t, PtrArg* out, std::index_sequence<I...>) {
  int n = 0;
  (void)out;
  (
      [&] {
        using E = std::tuple_element_t<I, Tuple>;
        if constexpr (is_data_pointer<E>) {
          out[n++] = PtrArg{static_cast<const void*>(std::get<I>(t)), static_cast<int>(I)};
        }
      }(),
      ...);
  return n;
}

}  // namespace detail

// kernel<<<grid, block, smem, stream>>>(args...): runs the whole grid before returning.
// Returns cudaSuccess, a validation error (nothing ran), or cudaErrorLaunchFailure (an error in
// the kernel: last_error_message() says what and where). Also recorded for cudaGetLastError.
template <typename... KArgs, typename... Args>
cudaError_t launch(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                   Args&&... args) {
  static_assert(sizeof...(KArgs) == sizeof...(Args), "launch: wrong number of kernel arguments");
  using K = void (*)(KArgs...);
  using Tuple = std::tuple<std::decay_t<KArgs>...>;
  const detail::Holder<K, Tuple> holder{kernel, Tuple(std::forward<Args>(args)...)};
  detail::PtrArg ptrs[sizeof...(KArgs) + 1];
  const int nptrs = detail::collect_pointers(holder.params, ptrs, std::index_sequence_for<KArgs...>{});
  detail::LaunchDesc d{reinterpret_cast<const void*>(kernel), grid, block, smem, stream,
                       &detail::run_thread<K, Tuple>, &holder, ptrs, nptrs};
  return detail::launch(d);
}

}  // namespace cuda_emu

// --- templates of cuda_runtime.h that exist only under nvcc -------------------------------------------
template <class T>
inline cudaError_t cudaFuncSetAttribute(T* entry, cudaFuncAttribute attr, int value) {
  return ::cudaFuncSetAttribute(reinterpret_cast<const void*>(entry), attr, value);
}
template <class T>
inline cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, T* entry) {
  return ::cudaFuncGetAttributes(attr, reinterpret_cast<const void*>(entry));
}
template <class T>
inline cudaError_t cudaMemcpyToSymbol(const T& symbol, const void* src, size_t count, size_t offset = 0,
                                      cudaMemcpyKind kind = cudaMemcpyHostToDevice) {
  return ::cudaMemcpyToSymbol(static_cast<const void*>(&symbol), src, count, offset, kind);
}
template <class T>
inline cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, size_t count, size_t offset = 0,
                                        cudaMemcpyKind kind = cudaMemcpyDeviceToHost) {
  return ::cudaMemcpyFromSymbol(dst, static_cast<const void*>(&symbol), count, offset, kind);
}
