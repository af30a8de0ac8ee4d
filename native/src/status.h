// Status: how every fallible engine function reports failure. Nothing reachable from
// file or request data aborts; it returns a Status that the binding turns into a typed JS error.
#pragma once
#include <string>
#include <utility>

namespace xlam {

// Stable error codes. The JS layer exposes them as `err.code`; never rename one.
enum class Code {
  kOk = 0,
  // Model folder and files.
  kModelNotFound,      // MODEL_NOT_FOUND: folder or a required file is missing
  kIo,                 // IO: read/mmap failure
  kBadConfig,          // BAD_CONFIG: config.json is not valid JSON or holds out-of-range values
  kUnknownModelType,   // UNKNOWN_MODEL_TYPE: model_type we do not run
  // safetensors (codes as in shared/RELIABILITY.md §2.4).
  kTruncated,          // TRUNCATED
  kHeaderTooLarge,     // HEADER_TOO_LARGE
  kBadHeader,          // BAD_HEADER
  kDuplicateKey,       // DUPLICATE_KEY
  kBadDtype,           // BAD_DTYPE: not a safetensors dtype name
  kBadOffset,          // BAD_OFFSET
  kIncompleteBuffer,   // INCOMPLETE_BUFFER: bytes after the last tensor
  kOverflow,           // OVERFLOW
  kBadTensorInfo,      // BAD_TENSOR_INFO
  kMisalignedSlice,    // MISALIGNED_SLICE
  kUnsupportedDtype,   // UNSUPPORTED_DTYPE: valid safetensors dtype the engine cannot use
  kBadShardPath,       // BAD_SHARD_PATH
  kBadIndex,           // BAD_INDEX
  // Model assembly.
  kMissingTensor,      // MISSING_TENSOR
  kShapeMismatch,      // SHAPE_MISMATCH
  // Runtime.
  kInvalidArgument,    // INVALID_ARGUMENT
  kOutOfMemory,        // OUT_OF_MEMORY
  kContextOverflow,    // CONTEXT_OVERFLOW: the sequence would exceed the context or the KV pool
  kEngineClosed,       // ENGINE_CLOSED: the engine was closed before the request finished
  kBackendUnavailable, // BACKEND_UNAVAILABLE: the backend cannot run here (no GPU, driver, library)
  kInternal,           // INTERNAL
};

const char* code_name(Code code);

struct Status {
  Code code = Code::kOk;
  std::string message;
  std::string file;    // the file the error is about, if any
  std::string tensor;  // the tensor the error is about, if any

  bool ok() const { return code == Code::kOk; }
  static Status Ok() { return Status{}; }
  static Status Error(Code code, std::string message, std::string file = {}, std::string tensor = {}) {
    Status s;
    s.code = code;
    s.message = std::move(message);
    s.file = std::move(file);
    s.tensor = std::move(tensor);
    return s;
  }
};

// Propagate a failing Status to the caller.
#define XLAM_TRY(expr)                 \
  do {                                 \
    ::xlam::Status _st = (expr);       \
    if (!_st.ok()) return _st;         \
  } while (0)

}  // namespace xlam
