// Device memory over host memory: cudaMalloc is an exact-size allocation recorded in a registry,
// so kernel pointer arguments, copies and memsets are range-checked against it
// (CUDA-EMULATION.md §1.1, §1.3).
//
// Out-of-bounds writes: under ASan every byte past an allocation is a redzone (exact size). In
// the other builds each allocation (and the dynamic shared memory) is followed by guard bytes
// that are checked after every launch, so an overrun fails the launch in-process.
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include <unistd.h>

#include "internal.h"

namespace cuda_emu::rt {
namespace {

#if defined(CUDA_EMU_ASAN)
constexpr size_t kGuard = 0;  // ASan's redzones do the job, exactly at the end
#else
constexpr size_t kGuard = 64;
#endif
constexpr unsigned char kGuardByte = 0xd5;
constexpr size_t kAlign = 256;  // cudaMalloc's alignment

struct Registry {
  std::mutex mu;
  std::map<uintptr_t, size_t> allocs;  // base -> size
  uint64_t bytes = 0;
};
Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: frees may come from static destructors
  return *r;
}

void fill_guard(unsigned char* p, size_t size) {
  if (kGuard) std::memset(p + size, kGuardByte, kGuard);
}

// First clobbered guard byte after p[size), or -1.
long guard_damage(const unsigned char* p, size_t size) {
  for (size_t i = 0; i < kGuard; ++i)
    if (p[size + i] != kGuardByte) return static_cast<long>(i);
  return -1;
}

std::string ptr_str(const void* p) {
  char b[32];
  std::snprintf(b, sizeof b, "%p", p);
  return b;
}

// The allocation containing [p, p+n); else the error to report.
cudaError_t check_range(const void* p, size_t n, const char* api, const char* what) {
  const unsigned char* base = nullptr;
  size_t size = 0;
  if (!find_allocation(p, &base, &size))
    return set_error(cudaErrorInvalidValue, std::string(api) + ": " + what + " " + ptr_str(p) +
                                                " is not inside a cudaMalloc allocation");
  const size_t off = static_cast<size_t>(static_cast<const unsigned char*>(p) - base);
  if (n > size - off)
    return set_error(cudaErrorInvalidValue, std::string(api) + ": " + what + " range of " + std::to_string(n) +
                                                " bytes at offset " + std::to_string(off) +
                                                " overruns its cudaMalloc allocation of " + std::to_string(size) +
                                                " bytes");
  return cudaSuccess;
}

bool is_device(const void* p) {
  const unsigned char* base;
  size_t size;
  return find_allocation(p, &base, &size);
}

cudaError_t copy(void* dst, const void* src, size_t count, cudaMemcpyKind kind, const char* api) {
  if (count == 0) return set_last(cudaSuccess);
  if (kind == cudaMemcpyDefault) {  // unified addressing: the registry says which side is which
    const bool d = is_device(dst), s = is_device(src);
    kind = d ? (s ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
             : (s ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  }
  if (kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice) {
    if (cudaError_t e = check_range(dst, count, api, "destination")) return e;
  }
  if (kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice) {
    if (cudaError_t e = check_range(src, count, api, "source")) return e;
  }
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
    return set_error(cudaErrorInvalidMemcpyDirection, std::string(api) + ": invalid cudaMemcpyKind");
  std::memmove(dst, src, count);
  return set_last(cudaSuccess);
}

}  // namespace

bool find_allocation(const void* p, const unsigned char** base, size_t* size) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = r.allocs.upper_bound(a);
  if (it == r.allocs.begin()) return false;
  --it;
  if (a >= it->first + it->second) return false;  // one past the end is not inside
  *base = reinterpret_cast<const unsigned char*>(it->first);
  *size = it->second;
  return true;
}

std::string check_guards() {
  if (!kGuard) return "";
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (const auto& [base, size] : r.allocs) {
    unsigned char* p = reinterpret_cast<unsigned char*>(base);
    const long at = guard_damage(p, size);
    if (at < 0) continue;
    fill_guard(p, size);
    return "out-of-bounds write past the end of the cudaMalloc allocation at " + ptr_str(p) + " of " +
           std::to_string(size) + " bytes (byte " + std::to_string(size + static_cast<size_t>(at)) +
           " written; found by its guard bytes after the kernel finished)";
  }
  return "";
}

unsigned char* smem_alloc(size_t bytes) {
  void* p = nullptr;
  if (posix_memalign(&p, 16, bytes + kGuard) != 0) return nullptr;
  unsigned char* q = static_cast<unsigned char*>(p);
  fill_guard(q, bytes);
  return q;
}

void smem_free(unsigned char* p, size_t) { std::free(p); }

std::string smem_guard_check(const unsigned char* p, size_t bytes) {
  const long at = guard_damage(p, bytes);
  if (at < 0) return "";
  fill_guard(const_cast<unsigned char*>(p), bytes);
  return "out-of-bounds write past the end of the dynamic shared memory (" + std::to_string(bytes) +
         " bytes; byte " + std::to_string(bytes + static_cast<size_t>(at)) + " written)";
}

}  // namespace cuda_emu::rt

using namespace cuda_emu::rt;

namespace cuda_emu {
uint64_t device_bytes_in_use() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.bytes;
}
uint64_t device_allocations() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.allocs.size();
}
}  // namespace cuda_emu

extern "C" {

cudaError_t cudaMalloc(void** devPtr, size_t size) {
  if (!devPtr) return set_error(cudaErrorInvalidValue, "cudaMalloc: null devPtr");
  *devPtr = nullptr;
  if (size == 0) return set_last(cudaSuccess);
  void* p = nullptr;
  if (posix_memalign(&p, kAlign, size + kGuard) != 0 || !p)
    return set_error(cudaErrorMemoryAllocation, "cudaMalloc: out of host memory for " + std::to_string(size) + " bytes");
  fill_guard(static_cast<unsigned char*>(p), size);
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    r.allocs[reinterpret_cast<uintptr_t>(p)] = size;
    r.bytes += size;
  }
  *devPtr = p;
  return set_last(cudaSuccess);
}

cudaError_t cudaMallocAsync(void** devPtr, size_t size, cudaStream_t) { return cudaMalloc(devPtr, size); }

cudaError_t cudaFree(void* devPtr) {
  if (!devPtr) return set_last(cudaSuccess);
  Registry& r = registry();
  std::string damage;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.allocs.find(reinterpret_cast<uintptr_t>(devPtr));
    if (it == r.allocs.end())
      return set_error(cudaErrorInvalidValue, "cudaFree: " + ptr_str(devPtr) + " is not the start of a cudaMalloc allocation");
    const long at = guard_damage(static_cast<unsigned char*>(devPtr), it->second);
    if (at >= 0)
      damage = "cudaFree: the guard bytes after the allocation at " + ptr_str(devPtr) + " of " +
               std::to_string(it->second) + " bytes were overwritten (out-of-bounds write)";
    r.bytes -= it->second;
    r.allocs.erase(it);
  }
  std::free(devPtr);
  if (!damage.empty()) return set_error(cudaErrorInvalidValue, damage);
  return set_last(cudaSuccess);
}

cudaError_t cudaFreeAsync(void* devPtr, cudaStream_t) { return cudaFree(devPtr); }

cudaError_t cudaMallocHost(void** ptr, size_t size) {
  if (!ptr) return set_error(cudaErrorInvalidValue, "cudaMallocHost: null ptr");
  *ptr = std::malloc(size ? size : 1);
  return set_last(*ptr ? cudaSuccess : cudaErrorMemoryAllocation);
}
cudaError_t cudaHostAlloc(void** pHost, size_t size, unsigned int) { return cudaMallocHost(pHost, size); }
cudaError_t cudaFreeHost(void* ptr) {
  std::free(ptr);
  return set_last(cudaSuccess);
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  return copy(dst, src, count, kind, "cudaMemcpy");
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t) {
  return copy(dst, src, count, kind, "cudaMemcpyAsync");
}

cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                         cudaMemcpyKind kind) {
  if (width > dpitch || width > spitch) return set_error(cudaErrorInvalidPitchValue, "cudaMemcpy2D: width above pitch");
  for (size_t row = 0; row < height; ++row) {
    cudaError_t e = copy(static_cast<unsigned char*>(dst) + row * dpitch,
                         static_cast<const unsigned char*>(src) + row * spitch, width, kind, "cudaMemcpy2D");
    if (e) return e;
  }
  return set_last(cudaSuccess);
}
cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy2D(dst, dpitch, src, spitch, width, height, kind);
}

cudaError_t cudaMemset(void* devPtr, int value, size_t count) {
  if (count == 0) return set_last(cudaSuccess);
  if (cudaError_t e = check_range(devPtr, count, "cudaMemset", "destination")) return e;
  std::memset(devPtr, value, count);
  return set_last(cudaSuccess);
}
cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t) {
  return cudaMemset(devPtr, value, count);
}

// __constant__ and __device__ variables are ordinary host objects here.
cudaError_t cudaMemcpyToSymbol(const void* symbol, const void* src, size_t count, size_t offset, cudaMemcpyKind) {
  std::memcpy(static_cast<unsigned char*>(const_cast<void*>(symbol)) + offset, src, count);
  return set_last(cudaSuccess);
}
cudaError_t cudaMemcpyFromSymbol(void* dst, const void* symbol, size_t count, size_t offset, cudaMemcpyKind) {
  std::memcpy(dst, static_cast<const unsigned char*>(symbol) + offset, count);
  return set_last(cudaSuccess);
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  const uint64_t phys = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t avail = static_cast<uint64_t>(sysconf(_SC_AVPHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (total) *total = phys;
  if (free) *free = avail;
  return set_last(cudaSuccess);
}

}  // extern "C"
