// model-files: everything a model folder holds that the loader reads: config.json, the optional
// generation_config.json, and the safetensors weights (sharded through
// model.safetensors.index.json, or a single model.safetensors, or every *.safetensors file).
// All shards are memory-mapped and validated up front; a tensor is then found by name.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config.h"
#include "safetensors.h"
#include "status.h"

namespace xlam {

// One tensor of the model: its shard, its header entry and its bytes in the mapping.
struct TensorRef {
  const SafetensorsFile* file = nullptr;
  const TensorEntry* entry = nullptr;
  // Raw little-endian bytes: entry->nbytes() bytes, row-major entry->dtype with entry->shape;
  // may be unaligned (lives as long as the ModelFiles).
  const uint8_t* data = nullptr;
};

struct ModelFiles {
  std::string dir;                 // as given
  std::string real_dir;            // realpath(dir)
  ModelConfig config;
  bool has_generation_config = false;
  GenerationConfig generation;
  std::vector<std::unique_ptr<SafetensorsFile>> shards;  // in index order / sorted file order
  std::unordered_map<std::string, TensorRef> tensors;     // tensor name -> where it lives

  // nullptr if the model has no tensor of that name.
  const TensorRef* find_tensor(const std::string& name) const;
};

constexpr uint64_t kMaxConfigFileBytes = 16ull << 20;  // config.json, generation_config.json
constexpr uint64_t kMaxIndexFileBytes = 64ull << 20;   // model.safetensors.index.json

// Open a model folder. Errors:
//   MODEL_NOT_FOUND  the folder, config.json or every weight file is missing
//   BAD_CONFIG / UNKNOWN_MODEL_TYPE  from config.json / generation_config.json
//   BAD_SHARD_PATH   an index names a shard that is not a plain "*.safetensors" file name
//                    inside the folder (no '/', no "..", no symlink leading outside)
//   BAD_INDEX        the index is malformed, names a missing shard, maps a tensor to a shard
//                    that does not hold it, or a tensor is held by two shards
//   safetensors codes (TRUNCATED, BAD_HEADER, ...) for a bad shard; IO for read failures.
// On failure *out is left empty (no file stays mapped).
Status open_model_files(const std::string& dir, ModelFiles* out);

// Read a whole regular file of at most max_bytes into *out. Missing file -> MODEL_NOT_FOUND;
// larger than max_bytes -> too_large_code; other failures -> IO.
Status read_file_bounded(const std::string& path, uint64_t max_bytes, Code too_large_code, std::string* out);

}  // namespace xlam
