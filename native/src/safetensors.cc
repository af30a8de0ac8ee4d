#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "json.h"

namespace xlam {

namespace {

struct DtypeInfo {
  SafeDtype dtype;
  const char* name;
  uint32_t bits;
};

constexpr DtypeInfo kDtypes[kSafeDtypeCount] = {
    {SafeDtype::kBOOL, "BOOL", 8},
    {SafeDtype::kF4, "F4", 4},
    {SafeDtype::kF6_E2M3, "F6_E2M3", 6},
    {SafeDtype::kF6_E3M2, "F6_E3M2", 6},
    {SafeDtype::kU8, "U8", 8},
    {SafeDtype::kI8, "I8", 8},
    {SafeDtype::kF8_E5M2, "F8_E5M2", 8},
    {SafeDtype::kF8_E4M3, "F8_E4M3", 8},
    {SafeDtype::kF8_E8M0, "F8_E8M0", 8},
    {SafeDtype::kF8_E4M3FNUZ, "F8_E4M3FNUZ", 8},
    {SafeDtype::kF8_E5M2FNUZ, "F8_E5M2FNUZ", 8},
    {SafeDtype::kI16, "I16", 16},
    {SafeDtype::kU16, "U16", 16},
    {SafeDtype::kF16, "F16", 16},
    {SafeDtype::kBF16, "BF16", 16},
    {SafeDtype::kI32, "I32", 32},
    {SafeDtype::kU32, "U32", 32},
    {SafeDtype::kF32, "F32", 32},
    {SafeDtype::kC64, "C64", 64},
    {SafeDtype::kF64, "F64", 64},
    {SafeDtype::kI64, "I64", 64},
    {SafeDtype::kU64, "U64", 64},
};

const DtypeInfo& info_of(SafeDtype t) {
  const size_t i = static_cast<size_t>(t);
  return kDtypes[i < static_cast<size_t>(kSafeDtypeCount) ? i : 0];
}

// A tensor entry as written, before offset/size validation (dims as u64, as in the reference).
struct RawEntry {
  std::string name;
  SafeDtype dtype = SafeDtype::kU8;
  std::vector<uint64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

Status header_error(Code code, const std::string& msg, const std::string& file, const std::string& tensor = {}) {
  std::string m = "safetensors header: " + msg;
  if (!tensor.empty()) m += " (tensor \"" + tensor + "\")";
  return Status::Error(code, m, file, tensor);
}

Status parse_dtype(const json::Value& v, const std::string& name, const std::string& file, SafeDtype* out) {
  const std::string* dname = nullptr;
  if (v.is_string()) {
    dname = &v.text;
  } else if (v.is_object() && v.members.size() == 1 && v.members[0].value.is_null()) {
    dname = &v.members[0].key;  // serde's externally tagged unit-variant form {"F16": null}
  } else {
    return header_error(Code::kBadDtype, std::string("dtype must be a string, got ") + json::type_name(v.type), file,
                        name);
  }
  if (!safe_dtype_from_name(*dname, out))
    return header_error(Code::kBadDtype, "unknown dtype \"" + *dname + "\"", file, name);
  return Status::Ok();
}

Status parse_shape(const json::Value& v, const std::string& name, const std::string& file,
                   std::vector<uint64_t>* out) {
  if (!v.is_array())
    return header_error(Code::kBadHeader, std::string("shape must be an array, got ") + json::type_name(v.type), file,
                        name);
  out->clear();
  out->reserve(v.items.size());
  for (const json::Value& d : v.items) {
    uint64_t x = 0;
    if (!d.get_uint64(&x))
      return header_error(Code::kBadHeader, "shape entries must be non-negative integers, got " +
                                                (d.is_number() ? d.text : std::string(json::type_name(d.type))),
                          file, name);
    out->push_back(x);
  }
  return Status::Ok();
}

Status parse_offsets(const json::Value& v, const std::string& name, const std::string& file, uint64_t* begin,
                     uint64_t* end) {
  if (!v.is_array() || v.items.size() != 2)
    return header_error(Code::kBadOffset, "data_offsets must be an array of two integers", file, name);
  uint64_t o[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    const json::Value& x = v.items[static_cast<size_t>(i)];
    if (!x.get_uint64(&o[i]))
      return header_error(Code::kBadOffset, "data_offsets must be non-negative integers, got " +
                                                (x.is_number() ? x.text : std::string(json::type_name(x.type))),
                          file, name);
    if (o[i] > kMaxSafetensorsOffset)
      return header_error(Code::kBadOffset, "data offset " + x.text + " is above 2^53", file, name);
  }
  *begin = o[0];
  *end = o[1];
  return Status::Ok();
}

Status parse_entry(const std::string& name, const json::Value& v, const std::string& file, RawEntry* out) {
  out->name = name;
  const json::Value* dtype = nullptr;
  const json::Value* shape = nullptr;
  const json::Value* offsets = nullptr;
  if (v.is_object()) {
    dtype = v.find("dtype");
    shape = v.find("shape");
    offsets = v.find("data_offsets");
    if (!dtype) return header_error(Code::kBadHeader, "tensor entry is missing \"dtype\"", file, name);
    if (!shape) return header_error(Code::kBadHeader, "tensor entry is missing \"shape\"", file, name);
    if (!offsets) return header_error(Code::kBadHeader, "tensor entry is missing \"data_offsets\"", file, name);
  } else if (v.is_array() && v.items.size() == 3) {
    // serde also deserializes a struct from a sequence of its fields in declaration order.
    dtype = &v.items[0];
    shape = &v.items[1];
    offsets = &v.items[2];
  } else {
    return header_error(Code::kBadHeader, std::string("tensor entry must be an object, got ") + json::type_name(v.type),
                        file, name);
  }
  XLAM_TRY(parse_dtype(*dtype, name, file, &out->dtype));
  XLAM_TRY(parse_shape(*shape, name, file, &out->shape));
  XLAM_TRY(parse_offsets(*offsets, name, file, &out->begin, &out->end));
  return Status::Ok();
}

Status parse_metadata(const json::Value& v, const std::string& file, SafetensorsHeader* out) {
  if (v.is_null()) return Status::Ok();  // Option<HashMap<..>>: null is None
  if (!v.is_object())
    return header_error(Code::kBadHeader, std::string("__metadata__ must be an object, got ") + json::type_name(v.type),
                        file);
  out->has_metadata = true;
  out->metadata.reserve(v.members.size());
  for (const json::Member& m : v.members) {
    if (!m.value.is_string())
      return header_error(Code::kBadHeader, "__metadata__ value for \"" + m.key + "\" must be a string, got " +
                                                json::type_name(m.value.type),
                          file);
    out->metadata.emplace_back(m.key, m.value.text);
  }
  return Status::Ok();
}

}  // namespace

uint32_t safe_dtype_bits(SafeDtype t) { return info_of(t).bits; }

const char* safe_dtype_name(SafeDtype t) { return info_of(t).name; }

bool safe_dtype_from_name(const std::string& name, SafeDtype* out) {
  for (const DtypeInfo& d : kDtypes) {
    if (name == d.name) {
      *out = d.dtype;
      return true;
    }
  }
  return false;
}

int64_t TensorEntry::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(n, d, &n)) return -1;  // cannot happen after validation
  }
  return n;
}

const TensorEntry* SafetensorsHeader::find(const std::string& name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &tensors[it->second];
}

Status parse_safetensors_header(const uint8_t* bytes, uint64_t file_size, const std::string& file_name,
                                SafetensorsHeader* out) {
  *out = SafetensorsHeader{};
  if (file_size < 8)
    return header_error(Code::kTruncated, "file is " + std::to_string(file_size) + " bytes, shorter than the 8-byte length prefix",
                        file_name);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > kMaxSafetensorsHeader)
    return header_error(Code::kHeaderTooLarge, "header length " + std::to_string(n) + " exceeds 100000000", file_name);
  uint64_t stop = 0;
  if (__builtin_add_overflow(n, uint64_t{8}, &stop))
    return header_error(Code::kHeaderTooLarge, "header length overflows", file_name);
  if (stop > file_size)
    return header_error(Code::kTruncated, "header length " + std::to_string(n) + " runs past the end of the " +
                                              std::to_string(file_size) + "-byte file",
                        file_name);
  const uint8_t* hdr = bytes + 8;
  const size_t hlen = static_cast<size_t>(n);
  size_t bad = 0;
  if (!json::valid_utf8(hdr, hlen, &bad))
    return header_error(Code::kBadHeader, "header is not valid UTF-8 (byte " + std::to_string(bad) + ")", file_name);

  json::ParseOptions opts;
  opts.max_depth = 127;  // serde_json's recursion limit
  opts.max_nodes = kMaxSafetensorsJsonValues;
  opts.reject_duplicate_keys = true;
  json::Value root;
  json::ParseError perr;
  if (!json::parse(std::string_view(reinterpret_cast<const char*>(hdr), hlen), &root, &perr, opts)) {
    if (perr.kind == json::ParseError::Kind::kDuplicateKey)
      return header_error(Code::kDuplicateKey, perr.message, file_name, perr.key);
    return header_error(Code::kBadHeader, "invalid JSON: " + perr.message, file_name);
  }
  if (!root.is_object())
    return header_error(Code::kBadHeader, std::string("header must be a JSON object, got ") + json::type_name(root.type),
                        file_name);

  std::vector<RawEntry> raw;
  raw.reserve(root.members.size());
  for (const json::Member& m : root.members) {
    if (m.key == "__metadata__") {
      XLAM_TRY(parse_metadata(m.value, file_name, out));
      continue;
    }
    raw.emplace_back();
    XLAM_TRY(parse_entry(m.key, m.value, file_name, &raw.back()));
  }
  // Free the DOM before building the output (headers can be large).
  root = json::Value{};

  std::stable_sort(raw.begin(), raw.end(), [](const RawEntry& a, const RawEntry& b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });

  uint64_t start = 0;
  out->tensors.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    RawEntry& e = raw[i];
    if (e.begin != start || e.end < e.begin) {
      std::string why;
      if (e.end < e.begin)
        why = "begin " + std::to_string(e.begin) + " is after end " + std::to_string(e.end);
      else if (i == 0)
        why = "first tensor starts at " + std::to_string(e.begin) + ", not 0";
      else if (e.begin > start)
        why = "hole before offset " + std::to_string(e.begin) + " (previous tensor ends at " + std::to_string(start) + ")";
      else
        why = "overlaps the previous tensor (starts at " + std::to_string(e.begin) + ", previous ends at " +
              std::to_string(start) + ")";
      return header_error(Code::kBadOffset, "invalid data_offsets: " + why, file_name, e.name);
    }
    start = e.end;
    uint64_t nelements = 1;
    for (uint64_t d : e.shape) {
      if (__builtin_mul_overflow(nelements, d, &nelements))
        return header_error(Code::kOverflow, "shape element count overflows 64 bits", file_name, e.name);
    }
    const uint64_t bits = safe_dtype_bits(e.dtype);
    uint64_t nbits = 0;
    if (__builtin_mul_overflow(nelements, bits, &nbits))
      return header_error(Code::kOverflow, "tensor size in bits overflows 64 bits", file_name, e.name);
    if (nbits % 8 != 0)
      return header_error(Code::kMisalignedSlice,
                          std::string("sub-byte dtype ") + safe_dtype_name(e.dtype) + " with " +
                              std::to_string(nelements) + " elements does not fill whole bytes",
                          file_name, e.name);
    const uint64_t nbytes = nbits / 8;
    if (e.end - e.begin != nbytes)
      return header_error(Code::kBadTensorInfo,
                          "data_offsets span " + std::to_string(e.end - e.begin) + " bytes but dtype " +
                              safe_dtype_name(e.dtype) + " and shape need " + std::to_string(nbytes),
                          file_name, e.name);
    TensorEntry t;
    t.name = std::move(e.name);
    t.dtype = e.dtype;
    t.begin = e.begin;
    t.end = e.end;
    t.shape.reserve(e.shape.size());
    for (uint64_t d : e.shape) {
      if (d > static_cast<uint64_t>(INT64_MAX))
        return header_error(Code::kOverflow, "shape dimension " + std::to_string(d) + " exceeds 2^63-1", file_name,
                            t.name);
      t.shape.push_back(static_cast<int64_t>(d));
    }
    out->tensors.push_back(std::move(t));
  }

  const uint64_t data_len = file_size - stop;
  if (start > data_len)
    return header_error(Code::kTruncated, "tensors need " + std::to_string(start) + " data bytes but the file has " +
                                              std::to_string(data_len),
                        file_name);
  if (start < data_len)
    return header_error(Code::kIncompleteBuffer, std::to_string(data_len - start) +
                                                     " bytes after the last tensor are not covered by any tensor",
                        file_name);

  out->header_len = n;
  out->data_start = stop;
  out->data_len = data_len;
  out->index.reserve(out->tensors.size());
  for (size_t i = 0; i < out->tensors.size(); ++i) out->index.emplace(out->tensors[i].name, i);
  return Status::Ok();
}

Status engine_dtype(const TensorEntry& entry, const std::string& file_name, DType* out) {
  switch (entry.dtype) {
    case SafeDtype::kF32: *out = DType::kF32; return Status::Ok();
    case SafeDtype::kF16: *out = DType::kF16; return Status::Ok();
    case SafeDtype::kBF16: *out = DType::kBF16; return Status::Ok();
    default: break;
  }
  return Status::Error(Code::kUnsupportedDtype,
                       "tensor \"" + entry.name + "\" has dtype " + safe_dtype_name(entry.dtype) +
                           "; the engine loads F32, F16 and BF16 weights",
                       file_name, entry.name);
}

// --- SafetensorsFile ---------------------------------------------------------------------------

SafetensorsFile::~SafetensorsFile() { close(); }

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept
    : path_(std::move(other.path_)), map_(other.map_), size_(other.size_), header_(std::move(other.header_)) {
  other.map_ = nullptr;
  other.size_ = 0;
}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    map_ = other.map_;
    size_ = other.size_;
    header_ = std::move(other.header_);
    other.map_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void SafetensorsFile::close() {
  if (map_) ::munmap(map_, static_cast<size_t>(size_));
  map_ = nullptr;
  size_ = 0;
  header_ = SafetensorsHeader{};
}

Status SafetensorsFile::open(const std::string& path) {
  close();
  path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Status::Error(err == ENOENT ? Code::kModelNotFound : Code::kIo,
                         "cannot open " + path + ": " + std::strerror(err), path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::Error(Code::kIo, "cannot stat " + path + ": " + std::strerror(err), path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::Error(Code::kIo, path + " is not a regular file", path);
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    SafetensorsHeader tmp;
    static const uint8_t kNone[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    return parse_safetensors_header(kNone, size, path, &tmp);  // TRUNCATED
  }
  if (size > static_cast<uint64_t>(SIZE_MAX)) {
    ::close(fd);
    return Status::Error(Code::kIo, path + " is too large to map", path);
  }
  void* m = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_err = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (m == MAP_FAILED)
    return Status::Error(map_err == ENOMEM ? Code::kOutOfMemory : Code::kIo,
                         "cannot mmap " + path + ": " + std::strerror(map_err), path);
  map_ = m;
  size_ = size;
  Status st2 = parse_safetensors_header(static_cast<const uint8_t*>(m), size, path, &header_);
  if (!st2.ok()) {
    close();
    return st2;
  }
  return Status::Ok();
}

const uint8_t* SafetensorsFile::tensor_data(const TensorEntry& entry) const {
  if (!map_) return nullptr;
  return static_cast<const uint8_t*>(map_) + header_.data_start + entry.begin;
}

}  // namespace xlam
