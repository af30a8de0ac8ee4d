// json: a small strict JSON parser (RFC 8259) for safetensors headers, config.json,
// generation_config.json and model.safetensors.index.json.
//
// Strictness: exactly one value with optional JSON whitespace (space, tab, LF, CR) around it;
// no comments, no trailing commas, no NaN/Infinity, no leading '+' or leading zeros, no control
// characters inside strings; the whole text must be valid UTF-8 inside strings, and \u escapes
// must form valid code points (a lone surrogate escape is an error). Numbers whose magnitude
// overflows a double are an error (as in serde_json); ones that underflow become 0.
// Limits: nesting depth (ParseOptions::max_depth, default 64) and node count
// (ParseOptions::max_nodes) so a hostile file cannot exhaust the stack or memory.
// Nothing here throws or aborts on input data; allocation failure is reported as an error
// when exceptions are enabled.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xlam {
namespace json {

enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

const char* type_name(Type t);

struct Member;

class Value {
 public:
  Type type = Type::kNull;
  bool boolean = false;          // kBool
  double number = 0.0;           // kNumber: nearest double to the literal
  std::string text;              // kString: decoded UTF-8; kNumber: the literal as written
  std::vector<Value> items;      // kArray
  std::vector<Member> members;   // kObject, in document order

  bool is_null() const { return type == Type::kNull; }
  bool is_bool() const { return type == Type::kBool; }
  bool is_number() const { return type == Type::kNumber; }
  bool is_string() const { return type == Type::kString; }
  bool is_array() const { return type == Type::kArray; }
  bool is_object() const { return type == Type::kObject; }

  // A number literal with neither a fraction nor an exponent ("12", "-3"; not "1.0", "1e3").
  bool is_integer() const;
  // The integer literal exactly, if it is one and fits (false for "1.0", "1e3", overflow).
  bool get_int64(int64_t* out) const;
  // As get_int64 but unsigned: false for any literal with a '-' sign (including "-0").
  bool get_uint64(uint64_t* out) const;
  // Any number (integer or not); false for other types.
  bool get_double(double* out) const;
  bool get_bool(bool* out) const;
  bool get_string(std::string* out) const;

  // Objects: the first member with this key, or nullptr (also for non-objects).
  const Value* find(std::string_view key) const;
};

struct Member {
  std::string key;
  Value value;
};

struct ParseOptions {
  int max_depth = 64;              // arrays/objects nested deeper than this are an error
  uint64_t max_nodes = 1u << 23;   // total values in the document
  bool reject_duplicate_keys = false;
};

struct ParseError {
  enum class Kind : uint8_t { kNone, kSyntax, kUtf8, kDepth, kTooLarge, kDuplicateKey };
  Kind kind = Kind::kNone;
  size_t offset = 0;        // byte offset into the text where the problem was found
  std::string key;          // kDuplicateKey: the repeated key
  std::string message;      // human-readable, includes the byte offset
};

// Parse `text` as one JSON document into *out. On failure returns false, fills *error (if not
// null) and leaves *out unspecified.
bool parse(std::string_view text, Value* out, ParseError* error, const ParseOptions& options = {});

// True if bytes[0, len) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
// *bad_offset (if not null) receives the offset of the first bad byte.
bool valid_utf8(const uint8_t* bytes, size_t len, size_t* bad_offset = nullptr);

// --- Accessor helpers ----------------------------------------------------------------------
// Each returns kMissing when `obj` has no such key (or `obj` is not an object), kNull when the
// key is present with a JSON null, kWrongType when the value has another type or (ints) is not
// an exact integer literal in range, and kOk after storing the value.
enum class Get : uint8_t { kOk, kMissing, kNull, kWrongType };

Get get_int64(const Value& obj, std::string_view key, int64_t* out);
Get get_double(const Value& obj, std::string_view key, double* out);
Get get_string(const Value& obj, std::string_view key, std::string* out);
Get get_bool(const Value& obj, std::string_view key, bool* out);

}  // namespace json
}  // namespace xlam
