#include "status.h"

namespace xlam {

const char* code_name(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kModelNotFound: return "MODEL_NOT_FOUND";
    case Code::kIo: return "IO";
    case Code::kBadConfig: return "BAD_CONFIG";
    case Code::kUnknownModelType: return "UNKNOWN_MODEL_TYPE";
    case Code::kTruncated: return "TRUNCATED";
    case Code::kHeaderTooLarge: return "HEADER_TOO_LARGE";
    case Code::kBadHeader: return "BAD_HEADER";
    case Code::kDuplicateKey: return "DUPLICATE_KEY";
    case Code::kBadDtype: return "BAD_DTYPE";
    case Code::kBadOffset: return "BAD_OFFSET";
    case Code::kIncompleteBuffer: return "INCOMPLETE_BUFFER";
    case Code::kOverflow: return "OVERFLOW";
    case Code::kBadTensorInfo: return "BAD_TENSOR_INFO";
    case Code::kMisalignedSlice: return "MISALIGNED_SLICE";
    case Code::kUnsupportedDtype: return "UNSUPPORTED_DTYPE";
    case Code::kBadShardPath: return "BAD_SHARD_PATH";
    case Code::kBadIndex: return "BAD_INDEX";
    case Code::kMissingTensor: return "MISSING_TENSOR";
    case Code::kShapeMismatch: return "SHAPE_MISMATCH";
    case Code::kInvalidArgument: return "INVALID_ARGUMENT";
    case Code::kOutOfMemory: return "OUT_OF_MEMORY";
    case Code::kContextOverflow: return "CONTEXT_OVERFLOW";
    case Code::kEngineClosed: return "ENGINE_CLOSED";
    case Code::kBackendUnavailable: return "BACKEND_UNAVAILABLE";
    case Code::kInternal: return "INTERNAL";
  }
  return "INTERNAL";
}

}  // namespace xlam
