// safetensors: header validation (pure, on bytes) and a read-only memory-mapped file.
//
// Format: 8 bytes little-endian u64 N, then N bytes of UTF-8 JSON header, then the data section.
// The header is an object: an optional "__metadata__" (string -> string map, or null) and one
// entry per tensor {"dtype": NAME, "shape": [d0, ...], "data_offsets": [begin, end]} (extra
// fields allowed; offsets relative to the data section). Validation follows the reference Rust
// library (huggingface/safetensors, as in Python safetensors 0.8.0) with the error codes of
// shared/RELIABILITY.md §2.4, and these documented stricter cases:
//   - a repeated key anywhere in the header -> DUPLICATE_KEY (serde keeps the last one for
//     tensor names and __metadata__ entries);
//   - data_offsets above 2^53 -> BAD_OFFSET (JS precision trap);
//   - a shape dimension above 2^63-1 -> OVERFLOW (dims are int64 in the engine; only a
//     zero-element shape such as [0, 2^63] could otherwise load);
//   - a header holding more than kMaxSafetensorsJsonValues JSON values -> BAD_HEADER;
//   - a file shorter than the last tensor's end -> TRUNCATED (the reference says "incomplete
//     buffer" for both shorter and longer files; longer files give INCOMPLETE_BUFFER here).
// Like serde, a tensor entry may also be the positional array [dtype, shape, data_offsets], and a
// dtype may be written {"NAME": null}; JSON nesting is limited to 127 levels, as in serde_json.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "status.h"
#include "tensor.h"

namespace xlam {

// Every dtype name the safetensors format defines (Rust `Dtype`, safetensors 0.8.0).
enum class SafeDtype : uint8_t {
  kBOOL,
  kF4,        // 4-bit float (E2M1), packed two per byte
  kF6_E2M3,   // 6-bit floats, packed
  kF6_E3M2,
  kU8,
  kI8,
  kF8_E5M2,
  kF8_E4M3,
  kF8_E8M0,
  kF8_E4M3FNUZ,
  kF8_E5M2FNUZ,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kC64,       // complex64: two f32
  kF64,
  kI64,
  kU64,
};
constexpr int kSafeDtypeCount = 22;

// Bits per element: 4, 6, 8, 16, 32 or 64.
uint32_t safe_dtype_bits(SafeDtype t);
// The format's name for the dtype ("BF16", "F8_E4M3", ...).
const char* safe_dtype_name(SafeDtype t);
// Exact (case-sensitive) lookup of a dtype name; false if it is not a safetensors dtype.
bool safe_dtype_from_name(const std::string& name, SafeDtype* out);

struct TensorEntry {
  std::string name;
  SafeDtype dtype = SafeDtype::kU8;
  std::vector<int64_t> shape;  // PyTorch order; empty for a scalar
  uint64_t begin = 0;          // byte offsets relative to the start of the data section
  uint64_t end = 0;
  uint64_t nbytes() const { return end - begin; }
  int64_t numel() const;       // product of shape (validated not to overflow)
};

struct SafetensorsHeader {
  uint64_t header_len = 0;  // N
  uint64_t data_start = 0;  // 8 + N: absolute file offset of the data section
  uint64_t data_len = 0;    // file_size - data_start (== the last tensor's end)
  std::vector<TensorEntry> tensors;  // sorted by data offset
  std::vector<std::pair<std::string, std::string>> metadata;  // "__metadata__", document order
  bool has_metadata = false;
  std::unordered_map<std::string, size_t> index;  // tensor name -> position in `tensors`

  const TensorEntry* find(const std::string& name) const;
};

constexpr uint64_t kMaxSafetensorsHeader = 100000000;  // N limit, as in the reference library
constexpr uint64_t kMaxSafetensorsOffset = 1ull << 53;
// JSON values allowed in one header: ~30,000 tensors (a shard of the largest real checkpoints
// holds a few thousand). Bounds the parser's memory: ~1 KiB per tensor while parsing, so a
// header at this limit peaks near 35 MiB (test-allocation-bounds.cc); 2^21 allowed ~300 MiB.
constexpr uint64_t kMaxSafetensorsJsonValues = 1ull << 18;

// Validate a safetensors file image. `bytes` holds the file's first bytes: at least
// min(file_size, 8 + N) of them, where N is the u64 stored in the first 8 bytes (a whole-file
// mapping satisfies this); the data section is never read. On error the Status names
// `file_name` and, where it applies, the tensor.
Status parse_safetensors_header(const uint8_t* bytes, uint64_t file_size, const std::string& file_name,
                                SafetensorsHeader* out);

// Engine dtype for a tensor: F32, F16, BF16 map to DType; every other safetensors dtype gives
// UNSUPPORTED_DTYPE naming the tensor and the file.
Status engine_dtype(const TensorEntry& entry, const std::string& file_name, DType* out);

// A validated safetensors file mapped read-only (MAP_PRIVATE). The mapping lives until the
// object is destroyed; the file descriptor is closed as soon as the mapping exists (and on every
// error path). POSIX (Linux/macOS) only. Tensor data may sit at any address (S29): callers that
// need alignment must check or copy.
class SafetensorsFile {
 public:
  SafetensorsFile() = default;
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  SafetensorsFile(SafetensorsFile&& other) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;

  // Open, map and validate `path`. On failure the object stays closed.
  Status open(const std::string& path);
  void close();

  bool is_open() const { return map_ != nullptr; }
  const std::string& path() const { return path_; }
  uint64_t file_size() const { return size_; }
  const SafetensorsHeader& header() const { return header_; }
  const std::vector<TensorEntry>& tensors() const { return header_.tensors; }
  const TensorEntry* find(const std::string& name) const { return header_.find(name); }
  // Raw little-endian bytes of a tensor of this file: entry.nbytes() bytes laid out
  // row-major in entry.dtype with entry.shape; may be unaligned.
  const uint8_t* tensor_data(const TensorEntry& entry) const;

 private:
  std::string path_;
  void* map_ = nullptr;
  uint64_t size_ = 0;
  SafetensorsHeader header_;
};

}  // namespace xlam
