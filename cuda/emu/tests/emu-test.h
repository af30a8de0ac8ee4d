// Helpers of the emulator's own tests: device buffers over cudaMalloc and the three schedules.
#pragma once
#include <cuda_runtime.h>

#include <cstring>
#include <string>
#include <vector>

#include "../../../native/tests/check.h"
#include "../api.h"

namespace emu_test {

// The schedules every kernel test runs under (CUDA-EMULATION.md §4: one is not enough).
inline const std::vector<std::string>& schedules() {
  static const std::vector<std::string> s = {"forward", "reverse", "random:12345"};
  return s;
}

// A device buffer of n T's, optionally filled from host data.
template <class T>
struct DevBuf {
  T* p = nullptr;
  size_t n = 0;
  explicit DevBuf(size_t count) : n(count) {
    CHECK(cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(T)) == cudaSuccess);
  }
  explicit DevBuf(const std::vector<T>& host) : DevBuf(host.size()) {
    CHECK(cudaMemcpy(p, host.data(), n * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  ~DevBuf() { cudaFree(p); }
  std::vector<T> get() const {
    std::vector<T> h(n);
    CHECK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
    return h;
  }
  void fill(unsigned char byte) { CHECK(cudaMemset(p, byte, n * sizeof(T)) == cudaSuccess); }
};

// Does the last error message contain `needle`?
inline bool message_has(const char* needle) { return std::strstr(cuda_emu::last_error_message(), needle) != nullptr; }

}  // namespace emu_test
