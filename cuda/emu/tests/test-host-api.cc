// The runtime API subset from a plain .cc file (no emulation header, only cuda_runtime.h and
// api.h, as the backend's host code uses it): memory range checks, errors, device properties,
// streams, events, schedules.
#include <cuda_runtime.h>

#include <cstring>
#include <vector>

#include "../../../native/tests/check.h"
#include "../api.h"

namespace {

bool has(const char* needle) { return std::strstr(cuda_emu::last_error_message(), needle) != nullptr; }

TEST_CASE("emu-host: cudaMalloc registry and range-checked copies") {
  const uint64_t before = cuda_emu::device_allocations();
  void* p = nullptr;
  CHECK(cudaMalloc(&p, 100) == cudaSuccess && p);
  CHECK(reinterpret_cast<uintptr_t>(p) % 256 == 0);
  CHECK(cuda_emu::device_allocations() == before + 1);
  std::vector<unsigned char> h(200, 7);
  CHECK(cudaMemcpy(p, h.data(), 100, cudaMemcpyHostToDevice) == cudaSuccess);
  CHECK(cudaMemcpy(p, h.data(), 101, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK(has("overruns"));
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(cudaMemset(static_cast<char*>(p) + 50, 0, 50) == cudaSuccess);
  CHECK(cudaMemset(static_cast<char*>(p) + 50, 0, 51) == cudaErrorInvalidValue);
  CHECK(cudaMemcpy(h.data(), h.data() + 100, 10, cudaMemcpyDeviceToHost) == cudaErrorInvalidValue);
  CHECK(has("not inside a cudaMalloc allocation"));
  CHECK(cudaMemcpy(h.data(), p, 100, cudaMemcpyDefault) == cudaSuccess);
  CHECK(h[49] == 7 && h[50] == 0);
  CHECK(cudaPeekAtLastError() == cudaErrorInvalidValue);
  cudaGetLastError();
  CHECK(cudaFree(h.data()) == cudaErrorInvalidValue);
  CHECK(cudaFree(p) == cudaSuccess);
  CHECK(cuda_emu::device_allocations() == before);
  CHECK(cudaMalloc(&p, 0) == cudaSuccess && p == nullptr);
  CHECK(cudaFree(nullptr) == cudaSuccess);
  cudaGetLastError();
}

TEST_CASE("emu-host: device, properties, attributes, versions") {
  int n = 0, dev = -1;
  CHECK(cudaGetDeviceCount(&n) == cudaSuccess && n == 1);
  CHECK(cudaSetDevice(0) == cudaSuccess && cudaGetDevice(&dev) == cudaSuccess && dev == 0);
  CHECK(cudaSetDevice(1) == cudaErrorInvalidDevice);
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0) == cudaSuccess);
  CHECK(std::strcmp(prop.name, "cuda-emulated") == 0);
  CHECK(prop.major == 8 && prop.minor == 0 && prop.multiProcessorCount == 4 && prop.warpSize == 32);
  CHECK(prop.sharedMemPerBlock == 48 * 1024 && prop.sharedMemPerBlockOptin > prop.sharedMemPerBlock);
  int v = 0;
  CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, 0) == cudaSuccess && v == 4);
  CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0) == cudaSuccess &&
        v == static_cast<int>(prop.sharedMemPerBlockOptin));
  size_t free = 0, total = 0;
  CHECK(cudaMemGetInfo(&free, &total) == cudaSuccess && total > 0 && free <= total);
  CHECK(cudaDriverGetVersion(&v) == cudaSuccess && v >= 12000);
  CHECK(cudaRuntimeGetVersion(&v) == cudaSuccess && v >= 12000);
  CHECK(std::strcmp(cudaGetErrorName(cudaErrorLaunchFailure), "cudaErrorLaunchFailure") == 0);
  CHECK(std::strcmp(cudaGetErrorString(cudaSuccess), "no error") == 0);
  cudaGetLastError();
}

TEST_CASE("emu-host: streams and events") {
  cudaStream_t s = nullptr;
  CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess && s);
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a) == cudaSuccess && cudaEventCreate(&b) == cudaSuccess);
  CHECK(cudaEventRecord(a, s) == cudaSuccess);
  CHECK(cudaEventRecord(b, s) == cudaSuccess);
  CHECK(cudaStreamWaitEvent(s, b, 0) == cudaSuccess);
  CHECK(cudaStreamSynchronize(s) == cudaSuccess && cudaEventSynchronize(b) == cudaSuccess);
  float ms = -1;
  CHECK(cudaEventElapsedTime(&ms, a, b) == cudaSuccess && ms >= 0);
  CHECK(cudaEventDestroy(a) == cudaSuccess && cudaEventDestroy(b) == cudaSuccess);
  CHECK(cudaStreamDestroy(s) == cudaSuccess);
  CHECK(cudaStreamSynchronize(s) == cudaErrorInvalidResourceHandle);
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  cudaGetLastError();
}

TEST_CASE("emu-host: schedules") {
  CHECK(cuda_emu::set_schedule("reverse"));
  CHECK(std::strcmp(cuda_emu::schedule_name(), "reverse") == 0);
  CHECK(cuda_emu::set_schedule("random:42+rr"));
  CHECK(std::strcmp(cuda_emu::schedule_name(), "random:42+rr") == 0);
  CHECK(!cuda_emu::set_schedule("sideways"));
  CHECK(!cuda_emu::set_schedule("random:"));
  CHECK(!cuda_emu::set_schedule("random:12x"));
  CHECK(!cuda_emu::set_schedule("forward+xx"));
  CHECK(std::strcmp(cuda_emu::schedule_name(), "random:42+rr") == 0);
  CHECK(cuda_emu::set_schedule("forward"));
}

}  // namespace
