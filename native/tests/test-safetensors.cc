// Tests for native/src/safetensors.{h,cc} (one case per malformed class S01-S29 of
// shared/RELIABILITY.md section 2.4 that the header parser decides) and model-files.{h,cc}
// (S31, S32 and folder layouts).
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "check.h"
#include "model-files.h"
#include "safetensors.h"

using xlam::Code;
using xlam::SafeDtype;
using xlam::SafetensorsFile;
using xlam::SafetensorsHeader;
using xlam::Status;

namespace {

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

// A file image: length prefix, header text, data bytes.
std::string image(const std::string& header, const std::string& data = {}) {
  return le64(header.size()) + header + data;
}

Status parse(const std::string& bytes, SafetensorsHeader* h = nullptr) {
  SafetensorsHeader tmp;
  return xlam::parse_safetensors_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "t.safetensors",
                                        h ? h : &tmp);
}

Code code_of(const std::string& bytes) { return parse(bytes).code; }

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, uint64_t b, uint64_t e) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(b) + "," + std::to_string(e) + "]}";
}

const std::string kA4 = entry("a", "F32", "[1]", 0, 4);  // one 4-byte tensor

}  // namespace

TEST_CASE("safetensors: dtype table") {
  CHECK(xlam::kSafeDtypeCount == 22);
  const char* names[] = {"BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
                         "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64",
                         "F64", "I64", "U64"};
  const uint32_t bits[] = {8, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64};
  for (int i = 0; i < 22; ++i) {
    SafeDtype t;
    CHECK_MSG(xlam::safe_dtype_from_name(names[i], &t), "%s", names[i]);
    CHECK(std::strcmp(xlam::safe_dtype_name(t), names[i]) == 0);
    CHECK_MSG(xlam::safe_dtype_bits(t) == bits[i], "%s", names[i]);
  }
  SafeDtype t;
  CHECK(!xlam::safe_dtype_from_name("f16", &t));
  CHECK(!xlam::safe_dtype_from_name("F128", &t));
  CHECK(!xlam::safe_dtype_from_name("", &t));
}

TEST_CASE("safetensors: valid file layout") {
  std::string data(4 + 6, '\0');
  SafetensorsHeader h;
  // Listed out of order on purpose: entries come back sorted by offset.
  std::string hdr = "{\"__metadata__\":{\"format\":\"pt\",\"x\":\"y\"}," + entry("b", "BF16", "[3]", 4, 10) + "," +
                    entry("a", "F32", "[1]", 0, 4) + "}";
  Status st = parse(image(hdr, data), &h);
  CHECK_MSG(st.ok(), "%s", st.message.c_str());
  CHECK(h.tensors.size() == 2 && h.tensors[0].name == "a" && h.tensors[1].name == "b");
  CHECK(h.header_len == hdr.size() && h.data_start == 8 + hdr.size() && h.data_len == 10);
  CHECK(h.has_metadata && h.metadata.size() == 2 && h.metadata[0].first == "format" && h.metadata[1].second == "y");
  const xlam::TensorEntry* b = h.find("b");
  CHECK(b && b->dtype == SafeDtype::kBF16 && b->shape.size() == 1 && b->shape[0] == 3 && b->begin == 4 &&
        b->end == 10 && b->nbytes() == 6 && b->numel() == 3);
  CHECK(h.find("nope") == nullptr);
  // Positional entry and {"NAME": null} dtype forms are accepted, as serde does.
  CHECK(parse(image("{\"a\":[\"F32\",[1],[0,4]]}", std::string(4, '\0'))).ok());
  CHECK(parse(image("{\"a\":{\"dtype\":{\"F32\":null},\"shape\":[1],\"data_offsets\":[0,4]}}", std::string(4, '\0'))).ok());
  CHECK(parse(image("{\"__metadata__\":null," + kA4 + "}", std::string(4, '\0'))).ok());
}

TEST_CASE("safetensors S01 shorter than 8 bytes -> TRUNCATED") {
  CHECK(code_of("") == Code::kTruncated);
  CHECK(code_of(std::string(7, '\0')) == Code::kTruncated);
  Status st = parse("abc");
  CHECK(st.file == "t.safetensors");
}

TEST_CASE("safetensors S02 header over 100,000,000 -> HEADER_TOO_LARGE") {
  CHECK(code_of(le64(100000001) + "{}") == Code::kHeaderTooLarge);
  CHECK(code_of(le64(100000000) + "{}") == Code::kTruncated);  // at the limit: just too short
}

TEST_CASE("safetensors S03 N + 8 past the end -> TRUNCATED") {
  CHECK(code_of(le64(100) + "{}") == Code::kTruncated);
  CHECK(code_of(le64(3) + "{}") == Code::kTruncated);
  CHECK(code_of(le64(1)) == Code::kTruncated);
}

TEST_CASE("safetensors S04 N = 2^64-1 -> HEADER_TOO_LARGE") {
  CHECK(code_of(le64(UINT64_MAX) + "{}") == Code::kHeaderTooLarge);
  CHECK(code_of(le64(UINT64_MAX - 7) + "{}") == Code::kHeaderTooLarge);
}

TEST_CASE("safetensors S05 header not UTF-8 -> BAD_HEADER") {
  CHECK(code_of(image("{\"__metadata__\":{\"k\":\"\xff\"}}")) == Code::kBadHeader);
  CHECK(code_of(image("{}\xc3")) == Code::kBadHeader);
  CHECK(code_of(image("{\"a\xed\xa0\x80\":1}")) == Code::kBadHeader);
}

TEST_CASE("safetensors S06 not JSON / truncated / trailing garbage -> BAD_HEADER") {
  CHECK(code_of(image("hello")) == Code::kBadHeader);
  CHECK(code_of(image("{\"a\":{\"dtype\":\"F32\"")) == Code::kBadHeader);
  CHECK(code_of(image("{} x")) == Code::kBadHeader);
  CHECK(code_of(image(std::string("{}\0\0", 4))) == Code::kBadHeader);  // NUL padding is not whitespace
  CHECK(code_of(image("")) == Code::kBadHeader);
  CHECK(code_of(image("{},")) == Code::kBadHeader);
  // serde_json's nesting limit is 127 levels: 2 objects + 125 arrays load, 126 do not.
  std::string deep = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":" + std::string(125, '[') +
                     std::string(125, ']') + "}}";
  CHECK(parse(image(deep, std::string(4, '\0'))).ok());
  std::string deeper = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":" + std::string(126, '[') +
                       std::string(126, ']') + "}}";
  CHECK(code_of(image(deeper, std::string(4, '\0'))) == Code::kBadHeader);
}

TEST_CASE("safetensors S07 top level not an object -> BAD_HEADER") {
  CHECK(code_of(image("[]")) == Code::kBadHeader);
  CHECK(code_of(image("\"x\"")) == Code::kBadHeader);
  CHECK(code_of(image("null")) == Code::kBadHeader);
  CHECK(code_of(image("1")) == Code::kBadHeader);
}

TEST_CASE("safetensors S08 whitespace padding loads") {
  CHECK(parse(image(" \n\t{" + kA4 + "}      \r\n", std::string(4, '\0'))).ok());
  CHECK(parse(image("{}       ")).ok());
}

TEST_CASE("safetensors S09 duplicate tensor key -> DUPLICATE_KEY") {
  Status st = parse(image("{" + kA4 + "," + kA4 + "}", std::string(4, '\0')));
  CHECK(st.code == Code::kDuplicateKey);
  CHECK(st.tensor == "a" && st.file == "t.safetensors");
  // Also inside an entry and inside __metadata__.
  CHECK(code_of(image("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                      std::string(4, '\0'))) == Code::kDuplicateKey);
  CHECK(code_of(image("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}")) == Code::kDuplicateKey);
}

TEST_CASE("safetensors S10 duplicate __metadata__ -> DUPLICATE_KEY") {
  Status st = parse(image("{\"__metadata__\":{},\"__metadata__\":{}}"));
  CHECK(st.code == Code::kDuplicateKey);
}

TEST_CASE("safetensors S11 __metadata__ value not a string -> BAD_HEADER") {
  CHECK(code_of(image("{\"__metadata__\":{\"k\":1}}")) == Code::kBadHeader);
  CHECK(code_of(image("{\"__metadata__\":{\"k\":{}}}")) == Code::kBadHeader);
  CHECK(code_of(image("{\"__metadata__\":{\"k\":null}}")) == Code::kBadHeader);
  CHECK(code_of(image("{\"__metadata__\":[]}")) == Code::kBadHeader);
  CHECK(code_of(image("{\"__metadata__\":\"x\"}")) == Code::kBadHeader);
}

TEST_CASE("safetensors S12 unknown extra field in an entry loads") {
  SafetensorsHeader h;
  Status st = parse(image("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":{\"x\":[1,2]},\"y\":null}}",
                          std::string(4, '\0')),
                    &h);
  CHECK_MSG(st.ok(), "%s", st.message.c_str());
  CHECK(h.tensors.size() == 1);
}

TEST_CASE("safetensors S13 missing dtype/shape/data_offsets -> BAD_HEADER") {
  const std::string d4(4, '\0');
  Status st = parse(image("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", d4));
  CHECK(st.code == Code::kBadHeader && st.tensor == "a");
  CHECK(code_of(image("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", d4)) == Code::kBadHeader);
  CHECK(code_of(image("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", d4)) == Code::kBadHeader);
  // Entry of the wrong type, shape of the wrong type.
  CHECK(code_of(image("{\"a\":5}", d4)) == Code::kBadHeader);
  CHECK(code_of(image("{\"a\":[\"F32\",[1]]}", d4)) == Code::kBadHeader);
  CHECK(code_of(image("{\"a\":{\"dtype\":\"F32\",\"shape\":null,\"data_offsets\":[0,4]}}", d4)) == Code::kBadHeader);
  CHECK(code_of(image("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", d4)) == Code::kBadHeader);
  CHECK(code_of(image("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", d4)) == Code::kBadHeader);
  CHECK(code_of(image("{\"a\":{\"dtype\":\"F32\",\"shape\":[-0],\"data_offsets\":[0,4]}}", d4)) == Code::kBadHeader);
  CHECK(code_of(image("{\"a\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,4]}}", d4)) ==
        Code::kBadHeader);
}

TEST_CASE("safetensors S14 unknown dtype -> BAD_DTYPE") {
  const std::string d4(4, '\0');
  Status st = parse(image("{" + entry("w", "F128", "[1]", 0, 4) + "}", d4));
  CHECK(st.code == Code::kBadDtype && st.tensor == "w");
  CHECK(code_of(image("{" + entry("w", "f16", "[2]", 0, 4) + "}", d4)) == Code::kBadDtype);
  CHECK(code_of(image("{\"w\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", d4)) == Code::kBadDtype);
}

TEST_CASE("safetensors S15 bad data_offsets -> BAD_OFFSET") {
  const std::string d4(4, '\0');
  auto with = [&](const std::string& offs) {
    return code_of(image("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":" + offs + "}}", d4));
  };
  CHECK(with("[0]") == Code::kBadOffset);
  CHECK(with("[0,4,8]") == Code::kBadOffset);
  CHECK(with("\"0,4\"") == Code::kBadOffset);
  CHECK(with("{\"0\":0,\"1\":4}") == Code::kBadOffset);
  CHECK(with("[-4,0]") == Code::kBadOffset);
  CHECK(with("[0,-4]") == Code::kBadOffset);
  CHECK(with("[-0,4]") == Code::kBadOffset);
  CHECK(with("[0,4.0]") == Code::kBadOffset);
  CHECK(with("[0,4e0]") == Code::kBadOffset);
  CHECK(with("[0.0,4]") == Code::kBadOffset);
  CHECK(with("[0,null]") == Code::kBadOffset);
  CHECK(with("[0,9007199254740993]") == Code::kBadOffset);  // > 2^53
  CHECK(with("[0,18446744073709551615]") == Code::kBadOffset);
  // Exactly 2^53 is allowed by the parser (then fails as BAD_TENSOR_INFO here).
  CHECK(with("[0,9007199254740992]") == Code::kBadTensorInfo);
}

TEST_CASE("safetensors S16 begin > end -> BAD_OFFSET") {
  Status st = parse(image("{" + kA4 + "," + entry("b", "F32", "[0]", 4, 2) + "}", std::string(4, '\0')));
  CHECK(st.code == Code::kBadOffset && st.tensor == "b");
}

TEST_CASE("safetensors S17 first tensor not at 0 -> BAD_OFFSET") {
  Status st = parse(image("{" + entry("a", "F32", "[1]", 4, 8) + "}", std::string(8, '\0')));
  CHECK(st.code == Code::kBadOffset && st.tensor == "a");
}

TEST_CASE("safetensors S18 hole between tensors -> BAD_OFFSET") {
  Status st = parse(image("{" + kA4 + "," + entry("b", "F32", "[1]", 8, 12) + "}", std::string(12, '\0')));
  CHECK(st.code == Code::kBadOffset && st.tensor == "b");
}

TEST_CASE("safetensors S19 overlapping tensors -> BAD_OFFSET") {
  CHECK(code_of(image("{" + kA4 + "," + entry("b", "F32", "[1]", 2, 6) + "}", std::string(6, '\0'))) ==
        Code::kBadOffset);
  std::string ten = "{";
  for (int i = 0; i < 10; ++i) ten += (i ? "," : "") + entry("t" + std::to_string(i), "F32", "[1]", 0, 4);
  ten += "}";
  CHECK(code_of(image(ten, std::string(4, '\0'))) == Code::kBadOffset);
  // Zero-size tensors may share an offset.
  CHECK(parse(image("{" + kA4 + "," + entry("z1", "F32", "[0]", 4, 4) + "," + entry("z2", "U8", "[0]", 4, 4) + "," +
                        entry("z0", "U8", "[0]", 0, 0) + "}",
                    std::string(4, '\0')))
            .ok());
}

TEST_CASE("safetensors S20 trailing bytes after the last tensor -> INCOMPLETE_BUFFER") {
  CHECK(code_of(image("{" + kA4 + "}", std::string(5, '\0'))) == Code::kIncompleteBuffer);
  CHECK(code_of(image("{}", "PK\x03\x04")) == Code::kIncompleteBuffer);  // polyglot
}

TEST_CASE("safetensors S21 file shorter than the last end -> TRUNCATED") {
  CHECK(code_of(image("{" + kA4 + "}", std::string(3, '\0'))) == Code::kTruncated);
  CHECK(code_of(image("{" + kA4 + "}")) == Code::kTruncated);
}

TEST_CASE("safetensors S22 shape product overflows -> OVERFLOW") {
  Status st = parse(image("{" + entry("a", "U8", "[2,18446744073709551614]", 0, 0) + "}"));
  CHECK(st.code == Code::kOverflow && st.tensor == "a");
  CHECK(code_of(image("{" + entry("a", "U8", "[4294967296,4294967296]", 0, 0) + "}")) == Code::kOverflow);
  // A zero-element shape with a dimension above 2^63-1 (int64 dims in the engine).
  CHECK(code_of(image("{" + entry("a", "U8", "[0,9223372036854775808]", 0, 0) + "}")) == Code::kOverflow);
}

TEST_CASE("safetensors S23 nelements x bits overflows -> OVERFLOW") {
  CHECK(code_of(image("{" + entry("a", "F32", "[4611686018427387904]", 0, 0) + "}")) == Code::kOverflow);
  CHECK(code_of(image("{" + entry("a", "U8", "[2305843009213693952]", 0, 0) + "}")) == Code::kOverflow);
}

TEST_CASE("safetensors S24 end - begin != nbytes -> BAD_TENSOR_INFO") {
  Status st = parse(image("{" + entry("a", "F32", "[2]", 0, 4) + "}", std::string(4, '\0')));
  CHECK(st.code == Code::kBadTensorInfo && st.tensor == "a");
  CHECK(code_of(image("{" + entry("a", "BF16", "[2,2]", 0, 16) + "}", std::string(16, '\0'))) == Code::kBadTensorInfo);
}

TEST_CASE("safetensors S25 sub-byte dtype with nbits % 8 != 0 -> MISALIGNED_SLICE") {
  Status st = parse(image("{" + entry("a", "F4", "[3]", 0, 2) + "}", std::string(2, '\0')));
  CHECK(st.code == Code::kMisalignedSlice && st.tensor == "a");
  CHECK(code_of(image("{" + entry("a", "F6_E2M3", "[3]", 0, 3) + "}", std::string(3, '\0'))) == Code::kMisalignedSlice);
  CHECK(parse(image("{" + entry("a", "F4", "[4]", 0, 2) + "}", std::string(2, '\0'))).ok());
  CHECK(parse(image("{" + entry("a", "F6_E3M2", "[4]", 0, 3) + "}", std::string(3, '\0'))).ok());
}

TEST_CASE("safetensors S26 empty and scalar tensors load") {
  SafetensorsHeader h;
  Status st = parse(image("{" + entry("e", "F32", "[2,0]", 0, 0) + "," + entry("s", "F32", "[]", 0, 4) + "}",
                          std::string(4, '\0')),
                    &h);
  CHECK_MSG(st.ok(), "%s", st.message.c_str());
  const xlam::TensorEntry* e = h.find("e");
  const xlam::TensorEntry* s = h.find("s");
  CHECK(e && e->shape.size() == 2 && e->numel() == 0 && e->nbytes() == 0);
  CHECK(s && s->shape.empty() && s->numel() == 1 && s->nbytes() == 4);
}

TEST_CASE("safetensors S27 {} loads") {
  SafetensorsHeader h;
  CHECK(parse(image("{}"), &h).ok());
  CHECK(h.tensors.empty() && !h.has_metadata && h.data_len == 0 && h.data_start == 10);
  CHECK(parse(image("{\"__metadata__\":{}}"), &h).ok() && h.has_metadata);
}

TEST_CASE("safetensors S28 valid dtype the engine cannot use -> UNSUPPORTED_DTYPE") {
  SafetensorsHeader h;
  std::string hdr = "{" + entry("e8", "F8_E8M0", "[4]", 0, 4) + "," + entry("c", "C64", "[1]", 4, 12) + "," +
                    entry("f4", "F4", "[2]", 12, 13) + "," + entry("w", "BF16", "[2]", 13, 17) + "," +
                    entry("h", "F16", "[1]", 17, 19) + "," + entry("f", "F32", "[1]", 19, 23) + "}";
  CHECK(parse(image(hdr, std::string(23, '\0')), &h).ok());  // the file itself is valid
  xlam::DType dt;
  for (const char* name : {"e8", "c", "f4"}) {
    Status st = xlam::engine_dtype(*h.find(name), "t.safetensors", &dt);
    CHECK_MSG(st.code == Code::kUnsupportedDtype && st.tensor == name && st.file == "t.safetensors", "%s", name);
  }
  CHECK(xlam::engine_dtype(*h.find("w"), "t", &dt).ok() && dt == xlam::DType::kBF16);
  CHECK(xlam::engine_dtype(*h.find("h"), "t", &dt).ok() && dt == xlam::DType::kF16);
  CHECK(xlam::engine_dtype(*h.find("f"), "t", &dt).ok() && dt == xlam::DType::kF32);
}

// --- Files on disk ------------------------------------------------------------------------------

namespace {

int rm_entry(const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/xlam-test-XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    path = p ? p : "";
  }
  ~TempDir() {
    if (!path.empty()) ::nftw(path.c_str(), rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

bool write_file(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return ::close(fd) == 0;
}

// A shard of F32 vectors: tensor i holds values base_i, base_i + 1, ...
std::string f32_shard(const std::vector<std::pair<std::string, int>>& tensors, size_t pad = 0) {
  std::string hdr = "{";
  std::string data;
  uint64_t off = 0;
  float v = 1.0f;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const uint64_t n = static_cast<uint64_t>(tensors[i].second);
    hdr += (i ? "," : "") + entry(tensors[i].first, "F32", "[" + std::to_string(n) + "]", off, off + 4 * n);
    for (uint64_t k = 0; k < n; ++k, v += 1.0f) {
      char b[4];
      std::memcpy(b, &v, 4);
      data.append(b, 4);
    }
    off += 4 * n;
  }
  hdr += "}" + std::string(pad, ' ');
  return image(hdr, data);
}

int count_open_fds() {
  int n = 0;
  for (int fd = 0; fd < 1024; ++fd)
    if (::fcntl(fd, F_GETFD) != -1) ++n;
  return n;
}

const char* kConfig =
    R"({"model_type":"llama","vocab_size":16,"hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2})";

}  // namespace

TEST_CASE("safetensors file: open, map, read, S29 odd data address") {
  TempDir dir;
  CHECK(!dir.path.empty());
  // Pad the header so its length is odd: data starts at an odd file offset.
  const size_t base_len = f32_shard({{"a", 3}, {"b", 2}}).size() - 8 - 20;  // header length, no padding
  std::string bytes = f32_shard({{"a", 3}, {"b", 2}}, base_len % 2 == 0 ? 1 : 0);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  CHECK(n % 2 == 1);
  CHECK(write_file(dir / "odd.safetensors", bytes));
  std::string aligned = f32_shard({{"a", 3}, {"b", 2}}, (8 - base_len % 8) % 8);
  CHECK((aligned.size() - 20) % 8 == 0);
  CHECK(write_file(dir / "even.safetensors", aligned));

  const int fds_before = count_open_fds();
  {
    SafetensorsFile odd, even;
    Status st = odd.open(dir / "odd.safetensors");
    CHECK_MSG(st.ok(), "%s", st.message.c_str());
    CHECK(even.open(dir / "even.safetensors").ok());
    CHECK(odd.is_open() && odd.tensors().size() == 2 && odd.file_size() == bytes.size());
    CHECK(count_open_fds() == fds_before);  // the descriptor is closed once mapped
    const xlam::TensorEntry* a = odd.find("a");
    const xlam::TensorEntry* b = odd.find("b");
    const xlam::TensorEntry* b2 = even.find("b");
    CHECK(a && b && b2);
    if (a && b && b2) {
      CHECK(reinterpret_cast<uintptr_t>(odd.tensor_data(*a)) % 2 == 1);
      float got[3];
      std::memcpy(got, odd.tensor_data(*a), 12);
      CHECK(got[0] == 1.0f && got[1] == 2.0f && got[2] == 3.0f);
      CHECK(std::memcmp(odd.tensor_data(*b), even.tensor_data(*b2), 8) == 0);
      float gb[2];
      std::memcpy(gb, odd.tensor_data(*b), 8);
      CHECK(gb[0] == 4.0f && gb[1] == 5.0f);
    }
    // Moving keeps the mapping valid.
    SafetensorsFile moved(std::move(odd));
    CHECK(moved.is_open() && !odd.is_open() && moved.find("a") != nullptr);
    float x;
    std::memcpy(&x, moved.tensor_data(*moved.find("a")), 4);
    CHECK(x == 1.0f);
  }

  // Errors: missing file, bad file, tiny file, directory; no descriptor leaks.
  SafetensorsFile f;
  CHECK(f.open(dir / "missing.safetensors").code == Code::kModelNotFound);
  CHECK(write_file(dir / "bad.safetensors", image("{" + kA4 + "}", std::string(5, '\0'))));
  Status st = f.open(dir / "bad.safetensors");
  CHECK(st.code == Code::kIncompleteBuffer && st.file == dir / "bad.safetensors" && !f.is_open());
  CHECK(write_file(dir / "tiny.safetensors", "abc"));
  CHECK(f.open(dir / "tiny.safetensors").code == Code::kTruncated);
  CHECK(write_file(dir / "empty.safetensors", ""));
  CHECK(f.open(dir / "empty.safetensors").code == Code::kTruncated);
  CHECK(f.open(dir.path).code == Code::kIo);
  CHECK(count_open_fds() == fds_before);
}

TEST_CASE("model files: index with shards") {
  TempDir dir;
  CHECK(write_file(dir / "config.json", kConfig));
  CHECK(write_file(dir / "generation_config.json", R"({"bos_token_id":1,"eos_token_id":[2,3]})"));
  CHECK(write_file(dir / "model-00001-of-00002.safetensors", f32_shard({{"x", 2}, {"y", 1}})));
  CHECK(write_file(dir / "model-00002-of-00002.safetensors", f32_shard({{"z", 4}})));
  CHECK(write_file(dir / "model.safetensors.index.json",
                   R"({"metadata":{"total_size":28},"weight_map":{"x":"model-00001-of-00002.safetensors",)"
                   R"("y":"model-00001-of-00002.safetensors","z":"model-00002-of-00002.safetensors"}})"));
  xlam::ModelFiles mf;
  Status st = xlam::open_model_files(dir.path, &mf);
  CHECK_MSG(st.ok(), "%s", st.message.c_str());
  CHECK(mf.config.arch == xlam::Arch::kLlama && mf.config.num_hidden_layers == 1);
  CHECK(mf.has_generation_config && mf.generation.eos_token_ids.size() == 2 && mf.generation.bos_token_id == 1);
  CHECK(mf.shards.size() == 2 && mf.tensors.size() == 3);
  const xlam::TensorRef* z = mf.find_tensor("z");
  CHECK(z && z->entry->shape[0] == 4 && z->file == mf.shards[1].get());
  if (z) {
    float v[4];
    std::memcpy(v, z->data, 16);
    CHECK(v[0] == 1.0f && v[3] == 4.0f);
  }
  CHECK(mf.find_tensor("nope") == nullptr);
  // Moving the ModelFiles keeps every TensorRef valid.
  xlam::ModelFiles moved = std::move(mf);
  const xlam::TensorRef* y = moved.find_tensor("y");
  CHECK(y && y->file->find("y") == y->entry);
}

TEST_CASE("model files: single model.safetensors and folder scan") {
  {
    TempDir dir;
    CHECK(write_file(dir / "config.json", kConfig));
    CHECK(write_file(dir / "model.safetensors", f32_shard({{"w", 2}})));
    CHECK(write_file(dir / "other.safetensors", f32_shard({{"w", 2}})));  // ignored: model.safetensors wins
    xlam::ModelFiles mf;
    Status st = xlam::open_model_files(dir.path + "/", &mf);
    CHECK_MSG(st.ok(), "%s", st.message.c_str());
    CHECK(mf.shards.size() == 1 && mf.find_tensor("w") != nullptr && !mf.has_generation_config);
  }
  {
    TempDir dir;
    CHECK(write_file(dir / "config.json", kConfig));
    CHECK(write_file(dir / "b.safetensors", f32_shard({{"b", 1}})));
    CHECK(write_file(dir / "a.safetensors", f32_shard({{"a", 1}})));
    CHECK(write_file(dir / "._a.safetensors", "junk"));  // hidden: skipped
    CHECK(write_file(dir / "notes.txt", "x"));
    xlam::ModelFiles mf;
    Status st = xlam::open_model_files(dir.path, &mf);
    CHECK_MSG(st.ok(), "%s", st.message.c_str());
    CHECK(mf.shards.size() == 2 && mf.shards[0]->path().find("/a.safetensors") != std::string::npos);
    CHECK(mf.find_tensor("a") && mf.find_tensor("b"));
  }
  {
    TempDir dir;  // same tensor in two files without an index
    CHECK(write_file(dir / "config.json", kConfig));
    CHECK(write_file(dir / "a.safetensors", f32_shard({{"w", 1}})));
    CHECK(write_file(dir / "b.safetensors", f32_shard({{"w", 1}})));
    xlam::ModelFiles mf;
    CHECK(xlam::open_model_files(dir.path, &mf).code == Code::kBadIndex);
  }
}

TEST_CASE("model files: missing folder, config, weights") {
  xlam::ModelFiles mf;
  CHECK(xlam::open_model_files("/nonexistent/xlam/model", &mf).code == Code::kModelNotFound);
  CHECK(xlam::open_model_files("", &mf).code == Code::kModelNotFound);
  TempDir dir;
  Status st = xlam::open_model_files(dir.path, &mf);
  CHECK(st.code == Code::kModelNotFound && st.message.find("config.json") != std::string::npos);
  CHECK(write_file(dir / "file", "x"));
  CHECK(xlam::open_model_files(dir / "file", &mf).code == Code::kModelNotFound);
  CHECK(write_file(dir / "config.json", kConfig));
  CHECK(xlam::open_model_files(dir.path, &mf).code == Code::kModelNotFound);  // no weights
  CHECK(write_file(dir / "config.json", "{not json"));
  CHECK(xlam::open_model_files(dir.path, &mf).code == Code::kBadConfig);
  CHECK(write_file(dir / "config.json", R"({"model_type":"gpt2"})"));
  CHECK(xlam::open_model_files(dir.path, &mf).code == Code::kUnknownModelType);
  CHECK(write_file(dir / "config.json", kConfig));
  CHECK(write_file(dir / "generation_config.json", R"({"eos_token_id":"x"})"));
  CHECK(write_file(dir / "model.safetensors", f32_shard({{"w", 1}})));
  st = xlam::open_model_files(dir.path, &mf);
  CHECK(st.code == Code::kBadConfig && st.file.find("generation_config.json") != std::string::npos);
  CHECK(::unlink((dir / "generation_config.json").c_str()) == 0);
  CHECK(write_file(dir / "model.safetensors", "short"));
  CHECK(xlam::open_model_files(dir.path, &mf).code == Code::kTruncated);
  CHECK(mf.shards.empty() && mf.tensors.empty());
}

TEST_CASE("model files S31 shard path escapes -> BAD_SHARD_PATH") {
  TempDir base;
  const std::string model = base / "model";
  CHECK(::mkdir(model.c_str(), 0755) == 0);
  CHECK(write_file(model + "/config.json", kConfig));
  CHECK(write_file(model + "/ok.safetensors", f32_shard({{"w", 1}})));
  CHECK(write_file(base / "x.safetensors", f32_shard({{"w", 1}})));
  CHECK(::symlink((base / "x.safetensors").c_str(), (model + "/link.safetensors").c_str()) == 0);
  auto with_index = [&](const std::string& shard) {
    std::string idx = "{\"weight_map\":{\"w\":\"" + shard + "\"}}";
    write_file(model + "/model.safetensors.index.json", idx);
    xlam::ModelFiles mf;
    return xlam::open_model_files(model, &mf);
  };
  CHECK(with_index("ok.safetensors").ok());
  CHECK(with_index("../x.safetensors").code == Code::kBadShardPath);
  CHECK(with_index(base / "x.safetensors").code == Code::kBadShardPath);
  CHECK(with_index("link.safetensors").code == Code::kBadShardPath);
  CHECK(with_index("config.json").code == Code::kBadShardPath);
  CHECK(with_index("ok.bin").code == Code::kBadShardPath);
  CHECK(with_index("..").code == Code::kBadShardPath);
  CHECK(with_index(".safetensors").code == Code::kBadShardPath);
  CHECK(with_index("sub/ok.safetensors").code == Code::kBadShardPath);
  CHECK(with_index("..\\\\x.safetensors").code == Code::kBadShardPath);
  Status st = with_index("../x.safetensors");
  CHECK(st.tensor == "w");
  // Without an index, a symlink leading out of the folder is refused too.
  CHECK(::unlink((model + "/model.safetensors.index.json").c_str()) == 0);
  CHECK(::unlink((model + "/ok.safetensors").c_str()) == 0);
  xlam::ModelFiles mf;
  CHECK(xlam::open_model_files(model, &mf).code == Code::kBadShardPath);
  // A symlink that stays inside the folder is fine.
  CHECK(::unlink((model + "/link.safetensors").c_str()) == 0);
  CHECK(write_file(model + "/real.safetensors", f32_shard({{"w", 1}})));
  CHECK(::symlink("real.safetensors", (model + "/alias.safetensors").c_str()) == 0);
  CHECK(write_file(model + "/model.safetensors.index.json", R"({"weight_map":{"w":"alias.safetensors"}})"));
  Status st2 = xlam::open_model_files(model, &mf);
  CHECK_MSG(st2.ok(), "%s", st2.message.c_str());
}

TEST_CASE("model files S32 index inconsistencies -> BAD_INDEX") {
  TempDir dir;
  CHECK(write_file(dir / "config.json", kConfig));
  CHECK(write_file(dir / "s1.safetensors", f32_shard({{"a", 1}, {"b", 1}})));
  CHECK(write_file(dir / "s2.safetensors", f32_shard({{"c", 1}, {"b", 1}})));
  CHECK(write_file(dir / "s3.safetensors", f32_shard({{"d", 1}})));
  auto with_index = [&](const std::string& idx) {
    write_file(dir / "model.safetensors.index.json", idx);
    xlam::ModelFiles mf;
    return xlam::open_model_files(dir.path, &mf);
  };
  Status st = with_index(R"({"weight_map":{"a":"s1.safetensors","d":"missing.safetensors"}})");
  CHECK(st.code == Code::kBadIndex);                                         // missing shard
  st = with_index(R"({"weight_map":{"a":"s3.safetensors","d":"s3.safetensors"}})");
  CHECK(st.code == Code::kBadIndex && st.tensor == "a");                     // not in that shard
  st = with_index(R"({"weight_map":{"a":"s1.safetensors","c":"s2.safetensors"}})");
  CHECK(st.code == Code::kBadIndex && st.tensor == "b");                     // b in two shards
  CHECK(with_index(R"({"weight_map":{"a":"s1.safetensors","a":"s1.safetensors"}})").code == Code::kBadIndex);
  CHECK(with_index(R"({"weight_map":[]})").code == Code::kBadIndex);
  CHECK(with_index(R"({"metadata":{}})").code == Code::kBadIndex);
  CHECK(with_index(R"({"weight_map":{"a":1}})").code == Code::kBadIndex);
  CHECK(with_index("{oops").code == Code::kBadIndex);
  CHECK(with_index(R"({"weight_map":{"d":"s3.safetensors"}})").ok());
  // A bad shard reports its own safetensors code.
  CHECK(write_file(dir / "s3.safetensors", image("{" + kA4 + "}", std::string(9, '\0'))));
  CHECK(with_index(R"({"weight_map":{"d":"s3.safetensors"}})").code == Code::kIncompleteBuffer);
}
