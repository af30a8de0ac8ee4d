// Device scratch memory for ops that need temporary buffers (attention's split-KV partials, MoE's
// sorted token lists): one allocation, grown on demand, reused by every op of a context.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

#include "ops.h"

namespace xlam::cuda {

class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace();
  // At least `bytes` of device memory (256-byte aligned); the previous contents are not kept.
  // Growing waits for `stream`, so a kernel still reading the old buffer finishes first.
  Status get(size_t bytes, cudaStream_t stream, void** out);
  size_t capacity() const { return capacity_; }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace xlam::cuda
