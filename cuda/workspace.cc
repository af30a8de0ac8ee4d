#include "workspace.h"

#include <string>

#if defined(CUDA_EMU)
#include "emu/api.h"  // cuda_emu::last_error_message
#endif

namespace xlam::cuda {

Workspace::~Workspace() {
  if (data_) cudaFree(data_);
}

Status Workspace::get(size_t bytes, cudaStream_t stream, void** out) {
  if (bytes == 0) bytes = 1;
  if (bytes > capacity_) {
    if (data_) {
      cudaError_t err = cudaStreamSynchronize(stream);
      if (err != cudaSuccess) return launch_status(err, "workspace");
      cudaFree(data_);
      data_ = nullptr;
      capacity_ = 0;
    }
    // Grow by half again, so a slowly growing batch does not reallocate every step.
    const size_t want = bytes + bytes / 2;
    cudaError_t err = cudaMalloc(&data_, want);
    if (err != cudaSuccess) {
      cudaGetLastError();  // clear the (non-sticky) allocation error
      data_ = nullptr;
      return Status::Error(Code::kOutOfMemory, "cuda: workspace of " + std::to_string(want) + " bytes: " +
                                                   cudaGetErrorString(err));
    }
    capacity_ = want;
  }
  *out = data_;
  return Status::Ok();
}

Status scratch(const Context& ctx, size_t bytes, void** out) {
  if (!ctx.workspace) return Status::Error(Code::kInternal, "cuda: context without a workspace");
  return ctx.workspace->get(bytes, ctx.stream, out);
}

Status launch_status(cudaError_t err, const char* op) {
  if (err == cudaSuccess) return Status::Ok();
  std::string msg = std::string("cuda: ") + op + ": " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err);
#if defined(CUDA_EMU)
  if (const char* why = cuda_emu::last_error_message(); why && *why) msg += std::string(" (") + why + ")";
#endif
  return Status::Error(Code::kInternal, msg);
}

}  // namespace xlam::cuda
