// The CUDA runtime API subset besides memory (memory.cc) and launches (launch.cc): errors,
// devices and their properties, streams, events, kernel attributes, versions. Host code written
// against cuda_runtime.h links against these instead of libcudart; the signatures are the
// toolkit's own declarations. Streams are synchronous (every call completes before returning)
// and events measure host time.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include <unistd.h>

#include "internal.h"

namespace cuda_emu::rt {
namespace {

// Per host thread, as in CUDA.
thread_local cudaError_t t_last = cudaSuccess;
thread_local std::string t_message;
thread_local int t_device = 0;

struct ErrorName {
  cudaError_t code;
  const char* name;
};
const ErrorName kErrorNames[] = {
    {cudaErrorAddressOfConstant, "cudaErrorAddressOfConstant"},
    {cudaErrorAlreadyAcquired, "cudaErrorAlreadyAcquired"},
    {cudaErrorAlreadyMapped, "cudaErrorAlreadyMapped"},
    {cudaErrorArrayIsMapped, "cudaErrorArrayIsMapped"},
    {cudaErrorAssert, "cudaErrorAssert"},
    {cudaErrorCallRequiresNewerDriver, "cudaErrorCallRequiresNewerDriver"},
    {cudaErrorCapturedEvent, "cudaErrorCapturedEvent"},
    {cudaErrorCdpNotSupported, "cudaErrorCdpNotSupported"},
    {cudaErrorCdpVersionMismatch, "cudaErrorCdpVersionMismatch"},
    {cudaErrorCompatNotSupportedOnDevice, "cudaErrorCompatNotSupportedOnDevice"},
    {cudaErrorContained, "cudaErrorContained"},
    {cudaErrorContextIsDestroyed, "cudaErrorContextIsDestroyed"},
    {cudaErrorCooperativeLaunchTooLarge, "cudaErrorCooperativeLaunchTooLarge"},
    {cudaErrorCudartUnloading, "cudaErrorCudartUnloading"},
    {cudaErrorDeviceAlreadyInUse, "cudaErrorDeviceAlreadyInUse"},
    {cudaErrorDeviceNotLicensed, "cudaErrorDeviceNotLicensed"},
    {cudaErrorDeviceUninitialized, "cudaErrorDeviceUninitialized"},
    {cudaErrorDevicesUnavailable, "cudaErrorDevicesUnavailable"},
    {cudaErrorDuplicateSurfaceName, "cudaErrorDuplicateSurfaceName"},
    {cudaErrorDuplicateTextureName, "cudaErrorDuplicateTextureName"},
    {cudaErrorDuplicateVariableName, "cudaErrorDuplicateVariableName"},
    {cudaErrorECCUncorrectable, "cudaErrorECCUncorrectable"},
    {cudaErrorExternalDevice, "cudaErrorExternalDevice"},
    {cudaErrorFileNotFound, "cudaErrorFileNotFound"},
    {cudaErrorFunctionNotLoaded, "cudaErrorFunctionNotLoaded"},
    {cudaErrorGraphExecUpdateFailure, "cudaErrorGraphExecUpdateFailure"},
    {cudaErrorHardwareStackError, "cudaErrorHardwareStackError"},
    {cudaErrorHostMemoryAlreadyRegistered, "cudaErrorHostMemoryAlreadyRegistered"},
    {cudaErrorHostMemoryNotRegistered, "cudaErrorHostMemoryNotRegistered"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress"},
    {cudaErrorIllegalInstruction, "cudaErrorIllegalInstruction"},
    {cudaErrorIllegalState, "cudaErrorIllegalState"},
    {cudaErrorIncompatibleDriverContext, "cudaErrorIncompatibleDriverContext"},
    {cudaErrorInitializationError, "cudaErrorInitializationError"},
    {cudaErrorInsufficientDriver, "cudaErrorInsufficientDriver"},
    {cudaErrorInvalidAddressSpace, "cudaErrorInvalidAddressSpace"},
    {cudaErrorInvalidChannelDescriptor, "cudaErrorInvalidChannelDescriptor"},
    {cudaErrorInvalidClusterSize, "cudaErrorInvalidClusterSize"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice"},
    {cudaErrorInvalidDeviceFunction, "cudaErrorInvalidDeviceFunction"},
    {cudaErrorInvalidDevicePointer, "cudaErrorInvalidDevicePointer"},
    {cudaErrorInvalidFilterSetting, "cudaErrorInvalidFilterSetting"},
    {cudaErrorInvalidGraphicsContext, "cudaErrorInvalidGraphicsContext"},
    {cudaErrorInvalidHostPointer, "cudaErrorInvalidHostPointer"},
    {cudaErrorInvalidKernelImage, "cudaErrorInvalidKernelImage"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection"},
    {cudaErrorInvalidNormSetting, "cudaErrorInvalidNormSetting"},
    {cudaErrorInvalidPc, "cudaErrorInvalidPc"},
    {cudaErrorInvalidPitchValue, "cudaErrorInvalidPitchValue"},
    {cudaErrorInvalidPtx, "cudaErrorInvalidPtx"},
    {cudaErrorInvalidResourceConfiguration, "cudaErrorInvalidResourceConfiguration"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle"},
    {cudaErrorInvalidResourceType, "cudaErrorInvalidResourceType"},
    {cudaErrorInvalidSource, "cudaErrorInvalidSource"},
    {cudaErrorInvalidSurface, "cudaErrorInvalidSurface"},
    {cudaErrorInvalidSymbol, "cudaErrorInvalidSymbol"},
    {cudaErrorInvalidTexture, "cudaErrorInvalidTexture"},
    {cudaErrorInvalidTextureBinding, "cudaErrorInvalidTextureBinding"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue"},
    {cudaErrorJitCompilationDisabled, "cudaErrorJitCompilationDisabled"},
    {cudaErrorJitCompilerNotFound, "cudaErrorJitCompilerNotFound"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure"},
    {cudaErrorLaunchFileScopedSurf, "cudaErrorLaunchFileScopedSurf"},
    {cudaErrorLaunchFileScopedTex, "cudaErrorLaunchFileScopedTex"},
    {cudaErrorLaunchIncompatibleTexturing, "cudaErrorLaunchIncompatibleTexturing"},
    {cudaErrorLaunchMaxDepthExceeded, "cudaErrorLaunchMaxDepthExceeded"},
    {cudaErrorLaunchOutOfResources, "cudaErrorLaunchOutOfResources"},
    {cudaErrorLaunchPendingCountExceeded, "cudaErrorLaunchPendingCountExceeded"},
    {cudaErrorLaunchTimeout, "cudaErrorLaunchTimeout"},
    {cudaErrorLossyQuery, "cudaErrorLossyQuery"},
    {cudaErrorMapBufferObjectFailed, "cudaErrorMapBufferObjectFailed"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation"},
    {cudaErrorMemoryValueTooLarge, "cudaErrorMemoryValueTooLarge"},
    {cudaErrorMisalignedAddress, "cudaErrorMisalignedAddress"},
    {cudaErrorMissingConfiguration, "cudaErrorMissingConfiguration"},
    {cudaErrorMixedDeviceExecution, "cudaErrorMixedDeviceExecution"},
    {cudaErrorMpsClientTerminated, "cudaErrorMpsClientTerminated"},
    {cudaErrorMpsConnectionFailed, "cudaErrorMpsConnectionFailed"},
    {cudaErrorMpsMaxClientsReached, "cudaErrorMpsMaxClientsReached"},
    {cudaErrorMpsMaxConnectionsReached, "cudaErrorMpsMaxConnectionsReached"},
    {cudaErrorMpsRpcFailure, "cudaErrorMpsRpcFailure"},
    {cudaErrorMpsServerNotReady, "cudaErrorMpsServerNotReady"},
    {cudaErrorNoDevice, "cudaErrorNoDevice"},
    {cudaErrorNoKernelImageForDevice, "cudaErrorNoKernelImageForDevice"},
    {cudaErrorNotMapped, "cudaErrorNotMapped"},
    {cudaErrorNotMappedAsArray, "cudaErrorNotMappedAsArray"},
    {cudaErrorNotMappedAsPointer, "cudaErrorNotMappedAsPointer"},
    {cudaErrorNotPermitted, "cudaErrorNotPermitted"},
    {cudaErrorNotReady, "cudaErrorNotReady"},
    {cudaErrorNotSupported, "cudaErrorNotSupported"},
    {cudaErrorNotYetImplemented, "cudaErrorNotYetImplemented"},
    {cudaErrorNvlinkUncorrectable, "cudaErrorNvlinkUncorrectable"},
    {cudaErrorOperatingSystem, "cudaErrorOperatingSystem"},
    {cudaErrorPeerAccessAlreadyEnabled, "cudaErrorPeerAccessAlreadyEnabled"},
    {cudaErrorPeerAccessNotEnabled, "cudaErrorPeerAccessNotEnabled"},
    {cudaErrorPeerAccessUnsupported, "cudaErrorPeerAccessUnsupported"},
    {cudaErrorPriorLaunchFailure, "cudaErrorPriorLaunchFailure"},
    {cudaErrorProfilerAlreadyStarted, "cudaErrorProfilerAlreadyStarted"},
    {cudaErrorProfilerAlreadyStopped, "cudaErrorProfilerAlreadyStopped"},
    {cudaErrorProfilerDisabled, "cudaErrorProfilerDisabled"},
    {cudaErrorProfilerNotInitialized, "cudaErrorProfilerNotInitialized"},
    {cudaErrorSetOnActiveProcess, "cudaErrorSetOnActiveProcess"},
    {cudaErrorSharedObjectInitFailed, "cudaErrorSharedObjectInitFailed"},
    {cudaErrorSharedObjectSymbolNotFound, "cudaErrorSharedObjectSymbolNotFound"},
    {cudaErrorSoftwareValidityNotEstablished, "cudaErrorSoftwareValidityNotEstablished"},
    {cudaErrorStartupFailure, "cudaErrorStartupFailure"},
    {cudaErrorStreamCaptureImplicit, "cudaErrorStreamCaptureImplicit"},
    {cudaErrorStreamCaptureInvalidated, "cudaErrorStreamCaptureInvalidated"},
    {cudaErrorStreamCaptureIsolation, "cudaErrorStreamCaptureIsolation"},
    {cudaErrorStreamCaptureMerge, "cudaErrorStreamCaptureMerge"},
    {cudaErrorStreamCaptureUnjoined, "cudaErrorStreamCaptureUnjoined"},
    {cudaErrorStreamCaptureUnmatched, "cudaErrorStreamCaptureUnmatched"},
    {cudaErrorStreamCaptureUnsupported, "cudaErrorStreamCaptureUnsupported"},
    {cudaErrorStreamCaptureWrongThread, "cudaErrorStreamCaptureWrongThread"},
    {cudaErrorStubLibrary, "cudaErrorStubLibrary"},
    {cudaErrorSymbolNotFound, "cudaErrorSymbolNotFound"},
    {cudaErrorSyncDepthExceeded, "cudaErrorSyncDepthExceeded"},
    {cudaErrorSynchronizationError, "cudaErrorSynchronizationError"},
    {cudaErrorSystemDriverMismatch, "cudaErrorSystemDriverMismatch"},
    {cudaErrorSystemNotReady, "cudaErrorSystemNotReady"},
    {cudaErrorTensorMemoryLeak, "cudaErrorTensorMemoryLeak"},
    {cudaErrorTextureFetchFailed, "cudaErrorTextureFetchFailed"},
    {cudaErrorTextureNotBound, "cudaErrorTextureNotBound"},
    {cudaErrorTimeout, "cudaErrorTimeout"},
    {cudaErrorTooManyPeers, "cudaErrorTooManyPeers"},
    {cudaErrorUnknown, "cudaErrorUnknown"},
    {cudaErrorUnmapBufferObjectFailed, "cudaErrorUnmapBufferObjectFailed"},
    {cudaErrorUnsupportedDevSideSync, "cudaErrorUnsupportedDevSideSync"},
    {cudaErrorUnsupportedExecAffinity, "cudaErrorUnsupportedExecAffinity"},
    {cudaErrorUnsupportedLimit, "cudaErrorUnsupportedLimit"},
    {cudaErrorUnsupportedPtxVersion, "cudaErrorUnsupportedPtxVersion"},
    {cudaSuccess, "cudaSuccess"},
};

std::mutex g_attr_mu;
std::map<const void*, int> g_max_dyn_smem;  // kernel -> cudaFuncAttributeMaxDynamicSharedMemorySize

// Streams and events are small host objects; a registry tells live handles from garbage.
struct Stream {
  unsigned flags;
};
struct Event {
  std::chrono::steady_clock::time_point t;
  bool recorded = false;
};
std::mutex g_obj_mu;
std::map<const void*, int> g_objects;  // handle -> 1 stream, 2 event

bool live(const void* h, int kind) {
  std::lock_guard<std::mutex> lock(g_obj_mu);
  auto it = g_objects.find(h);
  return it != g_objects.end() && it->second == kind;
}
void add_object(const void* h, int kind) {
  std::lock_guard<std::mutex> lock(g_obj_mu);
  g_objects[h] = kind;
}
void drop_object(const void* h) {
  std::lock_guard<std::mutex> lock(g_obj_mu);
  g_objects.erase(h);
}

cudaError_t check_stream(cudaStream_t s, const char* api) {
  if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread || live(s, 1)) return cudaSuccess;
  return set_error(cudaErrorInvalidResourceHandle, std::string(api) + ": not a live stream");
}

size_t total_memory() {
  return static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

cudaError_t set_last(cudaError_t err) {
  if (err != cudaSuccess) t_last = err;
  return err;
}

cudaError_t set_error(cudaError_t err, const std::string& msg) {
  t_last = err;
  t_message = msg;
  return err;
}

bool abort_on_error() {  // read at every error: tests may set it in a forked child
  const char* e = std::getenv("CUDA_EMU_ABORT");
  return e && *e && std::strcmp(e, "0") != 0;
}

int max_dynamic_smem(const void* kernel) {
  std::lock_guard<std::mutex> lock(g_attr_mu);
  auto it = g_max_dyn_smem.find(kernel);
  return it == g_max_dyn_smem.end() ? static_cast<int>(kDefaultSmem) : it->second;
}

cudaError_t check_launch_stream(cudaStream_t s) { return check_stream(s, "launch"); }

}  // namespace cuda_emu::rt

using namespace cuda_emu::rt;

namespace cuda_emu {
const char* last_error_message() { return t_message.c_str(); }
}  // namespace cuda_emu

extern "C" {

// --- errors ---------------------------------------------------------------------------------------
cudaError_t cudaGetLastError(void) {
  const cudaError_t e = t_last;
  t_last = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError(void) { return t_last; }

const char* cudaGetErrorName(cudaError_t error) {
  for (const ErrorName& e : kErrorNames)
    if (e.code == error) return e.name;
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInvalidPitchValue: return "invalid pitch argument";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    default: return cudaGetErrorName(error);
  }
}

// --- devices --------------------------------------------------------------------------------------
cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return set_error(cudaErrorInvalidValue, "cudaGetDeviceCount: null count");
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device != 0) return set_error(cudaErrorInvalidDevice, "cudaSetDevice: the emulator has only device 0");
  t_device = device;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  if (!device) return set_error(cudaErrorInvalidValue, "cudaGetDevice: null device");
  *device = t_device;
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }
cudaError_t cudaDeviceReset(void) { return cudaSuccess; }

// An sm_80 device named "cuda-emulated" with 4 SMs (A100 limits).
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return set_error(cudaErrorInvalidValue, "cudaGetDeviceProperties: null prop");
  if (device != 0) return set_error(cudaErrorInvalidDevice, "cudaGetDeviceProperties: the emulator has only device 0");
  std::memset(prop, 0, sizeof *prop);
  std::snprintf(prop->name, sizeof prop->name, "cuda-emulated");
  prop->totalGlobalMem = total_memory();
  prop->sharedMemPerBlock = kDefaultSmem;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->memPitch = 2147483647;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->totalConstMem = 65536;
  prop->major = 8;
  prop->minor = 0;
  prop->textureAlignment = 512;
  prop->texturePitchAlignment = 32;
  prop->multiProcessorCount = kSms;
  prop->canMapHostMemory = 1;
  prop->concurrentKernels = 1;
  prop->asyncEngineCount = 2;
  prop->unifiedAddressing = 1;
  prop->memoryBusWidth = 5120;
  prop->l2CacheSize = 40 * 1024 * 1024;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->globalL1CacheSupported = 1;
  prop->localL1CacheSupported = 1;
  prop->sharedMemPerMultiprocessor = 167936;
  prop->regsPerMultiprocessor = 65536;
  prop->sharedMemPerBlockOptin = kOptinSmem;
  prop->maxBlocksPerMultiProcessor = 32;
  prop->reservedSharedMemPerBlock = 1024;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return set_error(cudaErrorInvalidValue, "cudaDeviceGetAttribute: null value");
  if (device != 0) return set_error(cudaErrorInvalidDevice, "cudaDeviceGetAttribute: the emulator has only device 0");
  cudaDeviceProp p;
  cudaGetDeviceProperties(&p, 0);
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxBlockDimX: *value = p.maxThreadsDim[0]; break;
    case cudaDevAttrMaxBlockDimY: *value = p.maxThreadsDim[1]; break;
    case cudaDevAttrMaxBlockDimZ: *value = p.maxThreadsDim[2]; break;
    case cudaDevAttrMaxGridDimX: *value = p.maxGridSize[0]; break;
    case cudaDevAttrMaxGridDimY: *value = p.maxGridSize[1]; break;
    case cudaDevAttrMaxGridDimZ: *value = p.maxGridSize[2]; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(p.sharedMemPerBlock); break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(p.sharedMemPerBlockOptin); break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = static_cast<int>(p.sharedMemPerMultiprocessor); break;
    case cudaDevAttrTotalConstantMemory: *value = static_cast<int>(p.totalConstMem); break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrMaxRegistersPerBlock: *value = p.regsPerBlock; break;
    case cudaDevAttrMaxRegistersPerMultiprocessor: *value = p.regsPerMultiprocessor; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *value = p.maxThreadsPerMultiProcessor; break;
    case cudaDevAttrMaxBlocksPerMultiprocessor: *value = p.maxBlocksPerMultiProcessor; break;
    case cudaDevAttrL2CacheSize: *value = p.l2CacheSize; break;
    case cudaDevAttrGlobalMemoryBusWidth: *value = p.memoryBusWidth; break;
    case cudaDevAttrUnifiedAddressing: *value = 1; break;
    case cudaDevAttrConcurrentKernels: *value = 1; break;
    case cudaDevAttrIntegrated: *value = 0; break;
    case cudaDevAttrCooperativeLaunch: *value = 0; break;
    case cudaDevAttrMemoryPoolsSupported: *value = 1; break;
    default:
      return set_error(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute " + std::to_string(attr) +
                                                  " is not emulated");
  }
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* v) {
  if (!v) return set_error(cudaErrorInvalidValue, "cudaDriverGetVersion: null");
  *v = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int* v) {
  if (!v) return set_error(cudaErrorInvalidValue, "cudaRuntimeGetVersion: null");
  *v = CUDART_VERSION;
  return cudaSuccess;
}

// --- kernel attributes ------------------------------------------------------------------------------
cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (!func) return set_error(cudaErrorInvalidDeviceFunction, "cudaFuncSetAttribute: null kernel");
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || static_cast<size_t>(value) > kOptinSmem)
      return set_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: MaxDynamicSharedMemorySize " +
                                                  std::to_string(value) + " above the device's opt-in limit of " +
                                                  std::to_string(kOptinSmem) + " bytes");
    std::lock_guard<std::mutex> lock(g_attr_mu);
    g_max_dyn_smem[func] = value;
    return cudaSuccess;
  }
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;  // a hint
  return set_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: attribute " + std::to_string(attr) + " is not emulated");
}

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, const void* func) {
  if (!attr || !func) return set_error(cudaErrorInvalidValue, "cudaFuncGetAttributes: null argument");
  std::memset(attr, 0, sizeof *attr);
  attr->maxThreadsPerBlock = 1024;
  attr->maxDynamicSharedSizeBytes = max_dynamic_smem(func);
  attr->ptxVersion = 80;
  attr->binaryVersion = 80;
  return cudaSuccess;
}

// --- streams (synchronous) -----------------------------------------------------------------------------
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* pStream, unsigned int flags) {
  if (!pStream) return set_error(cudaErrorInvalidValue, "cudaStreamCreate: null pStream");
  Stream* s = new Stream{flags};
  add_object(s, 1);
  *pStream = reinterpret_cast<cudaStream_t>(s);
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* pStream) { return cudaStreamCreateWithFlags(pStream, 0); }
cudaError_t cudaStreamCreateWithPriority(cudaStream_t* pStream, unsigned int flags, int) {
  return cudaStreamCreateWithFlags(pStream, flags);
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!live(stream, 1)) return set_error(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: not a live stream");
  drop_object(stream);
  delete reinterpret_cast<Stream*>(stream);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) { return check_stream(stream, "cudaStreamSynchronize"); }
cudaError_t cudaStreamQuery(cudaStream_t stream) { return check_stream(stream, "cudaStreamQuery"); }
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int) {
  if (cudaError_t e = check_stream(stream, "cudaStreamWaitEvent")) return e;
  if (!live(event, 2)) return set_error(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: not a live event");
  return cudaSuccess;
}

// --- events (host clock) ------------------------------------------------------------------------------
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int) {
  if (!event) return set_error(cudaErrorInvalidValue, "cudaEventCreate: null event");
  Event* e = new Event;
  add_object(e, 2);
  *event = reinterpret_cast<cudaEvent_t>(e);
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, 0); }
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (!live(event, 2)) return set_error(cudaErrorInvalidResourceHandle, "cudaEventDestroy: not a live event");
  drop_object(event);
  delete reinterpret_cast<Event*>(event);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!live(event, 2)) return set_error(cudaErrorInvalidResourceHandle, "cudaEventRecord: not a live event");
  if (cudaError_t e = check_stream(stream, "cudaEventRecord")) return e;
  Event* e = reinterpret_cast<Event*>(event);
  e->t = std::chrono::steady_clock::now();
  e->recorded = true;
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!live(event, 2)) return set_error(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: not a live event");
  return cudaSuccess;
}
cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (!live(event, 2)) return set_error(cudaErrorInvalidResourceHandle, "cudaEventQuery: not a live event");
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms) return set_error(cudaErrorInvalidValue, "cudaEventElapsedTime: null ms");
  if (!live(start, 2) || !live(end, 2))
    return set_error(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: not a live event");
  const Event* a = reinterpret_cast<const Event*>(start);
  const Event* b = reinterpret_cast<const Event*>(end);
  if (!a->recorded || !b->recorded) return set_error(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: event not recorded");
  *ms = std::chrono::duration<float, std::milli>(b->t - a->t).count();
  return cudaSuccess;
}

}  // extern "C"
