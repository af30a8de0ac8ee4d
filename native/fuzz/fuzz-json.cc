// libFuzzer target: the strict JSON parser (json::parse, valid_utf8) with options taken from the
// first byte. Any input must parse or give an error with an offset inside the text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "json.h"

using namespace xlam;

namespace {

// Walks the value: every string is valid UTF-8, every object key too; counts nodes.
uint64_t check(const json::Value& v) {
  uint64_t n = 1;
  if (v.is_string() && !json::valid_utf8(reinterpret_cast<const uint8_t*>(v.text.data()), v.text.size())) __builtin_trap();
  for (const json::Value& item : v.items) n += check(item);
  for (const json::Member& m : v.members) {
    if (!json::valid_utf8(reinterpret_cast<const uint8_t*>(m.key.data()), m.key.size())) __builtin_trap();
    if (v.find(m.key) == nullptr) __builtin_trap();
    n += check(m.value);
  }
  int64_t i;
  uint64_t u;
  double d;
  if (v.get_int64(&i) && !v.is_integer()) __builtin_trap();
  if (v.get_uint64(&u) && !v.is_integer()) __builtin_trap();
  if (v.is_number() && !v.get_double(&d)) __builtin_trap();
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  json::ParseOptions opt;
  opt.max_depth = 1 + (data[0] & 0x7f);
  opt.reject_duplicate_keys = (data[0] & 0x80) != 0;
  opt.max_nodes = 4096;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  json::Value v;
  json::ParseError err;
  if (!json::parse(text, &v, &err, opt)) {
    if (err.kind == json::ParseError::Kind::kNone || err.offset > text.size() || err.message.empty()) __builtin_trap();
    return 0;
  }
  if (check(v) > opt.max_nodes) __builtin_trap();
  size_t bad = 0;
  json::valid_utf8(data + 1, size - 1, &bad);
  if (bad > size - 1) __builtin_trap();
  return 0;
}
