#include "json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <new>
#include <system_error>

namespace xlam {
namespace json {

const char* type_name(Type t) {
  switch (t) {
    case Type::kNull: return "null";
    case Type::kBool: return "boolean";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kObject: return "object";
  }
  return "?";
}

namespace {

inline bool is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence starting at p (p < end), or 0 if it is not one.
size_t utf8_seq_len(const uint8_t* p, const uint8_t* end) {
  const uint8_t b0 = p[0];
  const size_t avail = static_cast<size_t>(end - p);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return (avail >= 2 && is_cont(p[1])) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (avail < 3 || !is_cont(p[1]) || !is_cont(p[2])) return 0;
    if (b0 == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (b0 == 0xED && p[1] > 0x9F) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (avail < 4 || !is_cont(p[1]) || !is_cont(p[2]) || !is_cont(p[3])) return 0;
    if (b0 == 0xF0 && p[1] < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && p[1] > 0x8F) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

void append_utf8(std::string* s, uint32_t cp) {
  if (cp < 0x80) {
    s->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Decide whether an out-of-range decimal literal (grammar already checked) overflows (true) or
// underflows (false): its decimal exponent is (integer digits after leading zeros) + exponent,
// or for a value below 1, exponent - (zeros after the point).
bool literal_overflows(std::string_view lit) {
  size_t i = 0;
  if (i < lit.size() && lit[i] == '-') ++i;
  int64_t mag = 0;  // position of the most significant nonzero digit relative to the point
  bool found = false;
  int64_t int_digits = 0;
  while (i < lit.size() && is_digit(lit[i])) {
    if (found || lit[i] != '0') {
      found = true;
      ++int_digits;
    }
    ++i;
  }
  if (found) {
    mag = int_digits;
  } else if (i < lit.size() && lit[i] == '.') {
    ++i;
    int64_t zeros = 0;
    while (i < lit.size() && lit[i] == '0') {
      ++zeros;
      ++i;
    }
    mag = -zeros;
  }
  while (i < lit.size() && (is_digit(lit[i]) || lit[i] == '.')) ++i;
  int64_t exp = 0;
  if (i < lit.size() && (lit[i] == 'e' || lit[i] == 'E')) {
    ++i;
    bool neg = false;
    if (i < lit.size() && (lit[i] == '+' || lit[i] == '-')) neg = lit[i++] == '-';
    while (i < lit.size() && is_digit(lit[i])) {
      if (exp < 1000000000) exp = exp * 10 + (lit[i] - '0');  // saturate
      ++i;
    }
    if (neg) exp = -exp;
  }
  return mag + exp > 0;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options, ParseError* error)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()),
        options_(options), error_(error) {}

  bool parse_document(Value* out) {
    skip_ws();
    if (!parse_value(out, 0)) return false;
    skip_ws();
    if (p_ != end_) return fail(ParseError::Kind::kSyntax, offset(), "trailing characters after the JSON value");
    return true;
  }

 private:
  const char* begin_;
  const char* p_;
  const char* end_;
  const ParseOptions& options_;
  ParseError* error_;
  uint64_t nodes_ = 0;

  size_t offset() const { return static_cast<size_t>(p_ - begin_); }

  bool fail(ParseError::Kind kind, size_t at, const std::string& what, const std::string& key = {}) {
    if (error_) {
      error_->kind = kind;
      error_->offset = at;
      error_->key = key;
      error_->message = what + " at byte " + std::to_string(at);
    }
    return false;
  }

  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(const char* word, size_t len) {
    if (static_cast<size_t>(end_ - p_) < len) return false;
    for (size_t i = 0; i < len; ++i)
      if (p_[i] != word[i]) return false;
    p_ += len;
    return true;
  }

  bool parse_value(Value* out, int depth) {
    if (++nodes_ > options_.max_nodes)
      return fail(ParseError::Kind::kTooLarge, offset(), "too many JSON values (limit " +
                                                              std::to_string(options_.max_nodes) + ")");
    if (p_ >= end_) return fail(ParseError::Kind::kSyntax, offset(), "unexpected end of input");
    switch (*p_) {
      case '{': return parse_object(out, depth + 1);
      case '[': return parse_array(out, depth + 1);
      case '"':
        out->type = Type::kString;
        return parse_string(&out->text);
      case 't':
        if (!literal("true", 4)) break;
        out->type = Type::kBool;
        out->boolean = true;
        return true;
      case 'f':
        if (!literal("false", 5)) break;
        out->type = Type::kBool;
        out->boolean = false;
        return true;
      case 'n':
        if (!literal("null", 4)) break;
        out->type = Type::kNull;
        return true;
      default:
        if (*p_ == '-' || is_digit(*p_)) return parse_number(out);
        break;
    }
    return fail(ParseError::Kind::kSyntax, offset(), "expected a JSON value");
  }

  bool parse_number(Value* out) {
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_ || !is_digit(*p_)) return fail(ParseError::Kind::kSyntax, offset(), "invalid number");
    if (*p_ == '0') {
      ++p_;
      if (p_ < end_ && is_digit(*p_)) return fail(ParseError::Kind::kSyntax, offset(), "leading zero in number");
    } else {
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ >= end_ || !is_digit(*p_)) return fail(ParseError::Kind::kSyntax, offset(), "digit expected after '.'");
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || !is_digit(*p_)) return fail(ParseError::Kind::kSyntax, offset(), "digit expected in exponent");
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    out->type = Type::kNumber;
    out->text.assign(start, static_cast<size_t>(p_ - start));
    double d = 0.0;
    auto res = std::from_chars(start, p_, d, std::chars_format::general);
    if (res.ec == std::errc::result_out_of_range) {
      if (literal_overflows(out->text))
        return fail(ParseError::Kind::kSyntax, static_cast<size_t>(start - begin_), "number out of range");
      d = (*start == '-') ? -0.0 : 0.0;
    } else if (res.ec != std::errc() || res.ptr != p_) {
      return fail(ParseError::Kind::kSyntax, static_cast<size_t>(start - begin_), "invalid number");
    }
    out->number = d;
    return true;
  }

  bool parse_hex4(uint32_t* out) {
    if (end_ - p_ < 4) return fail(ParseError::Kind::kSyntax, offset(), "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex_digit(p_[i]);
      if (h < 0) return fail(ParseError::Kind::kSyntax, offset(), "invalid hex digit in \\u escape");
      v = (v << 4) | static_cast<uint32_t>(h);
    }
    p_ += 4;
    *out = v;
    return true;
  }

  // p_ at the opening quote.
  bool parse_string(std::string* out) {
    ++p_;
    out->clear();
    for (;;) {
      // Copy a run of plain ASCII in one go.
      const char* run = p_;
      while (p_ < end_) {
        const unsigned char c = static_cast<unsigned char>(*p_);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++p_;
      }
      if (p_ > run) out->append(run, static_cast<size_t>(p_ - run));
      if (p_ >= end_) return fail(ParseError::Kind::kSyntax, offset(), "unterminated string");
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return fail(ParseError::Kind::kSyntax, offset(), "control character in string");
      if (c >= 0x80) {
        size_t n = utf8_seq_len(reinterpret_cast<const uint8_t*>(p_), reinterpret_cast<const uint8_t*>(end_));
        if (n == 0) return fail(ParseError::Kind::kUtf8, offset(), "invalid UTF-8 in string");
        out->append(p_, n);
        p_ += n;
        continue;
      }
      // Backslash escape.
      const size_t esc_at = offset();
      ++p_;
      if (p_ >= end_) return fail(ParseError::Kind::kSyntax, offset(), "unterminated escape");
      const char e = *p_++;
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (!parse_hex4(&cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail(ParseError::Kind::kUtf8, esc_at, "lone low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u')
              return fail(ParseError::Kind::kUtf8, esc_at, "lone high surrogate in \\u escape");
            p_ += 2;
            uint32_t lo = 0;
            if (!parse_hex4(&lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF)
              return fail(ParseError::Kind::kUtf8, esc_at, "high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return fail(ParseError::Kind::kSyntax, esc_at, "invalid escape");
      }
    }
  }

  bool parse_array(Value* out, int depth) {
    if (depth > options_.max_depth)
      return fail(ParseError::Kind::kDepth, offset(), "nesting deeper than " + std::to_string(options_.max_depth));
    out->type = Type::kArray;
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      skip_ws();
      out->items.emplace_back();
      if (!parse_value(&out->items.back(), depth)) return false;
      skip_ws();
      if (p_ >= end_) return fail(ParseError::Kind::kSyntax, offset(), "unterminated array");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      return fail(ParseError::Kind::kSyntax, offset(), "expected ',' or ']' in array");
    }
  }

  bool parse_object(Value* out, int depth) {
    if (depth > options_.max_depth)
      return fail(ParseError::Kind::kDepth, offset(), "nesting deeper than " + std::to_string(options_.max_depth));
    out->type = Type::kObject;
    ++p_;
    skip_ws();
    std::vector<size_t> key_offsets;
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (p_ >= end_ || *p_ != '"') return fail(ParseError::Kind::kSyntax, offset(), "expected a string key");
      out->members.emplace_back();
      Member& m = out->members.back();
      if (options_.reject_duplicate_keys) key_offsets.push_back(offset());
      if (!parse_string(&m.key)) return false;
      skip_ws();
      if (p_ >= end_ || *p_ != ':') return fail(ParseError::Kind::kSyntax, offset(), "expected ':' after key");
      ++p_;
      skip_ws();
      if (!parse_value(&m.value, depth)) return false;
      skip_ws();
      if (p_ >= end_) return fail(ParseError::Kind::kSyntax, offset(), "unterminated object");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        break;
      }
      return fail(ParseError::Kind::kSyntax, offset(), "expected ',' or '}' in object");
    }
    if (options_.reject_duplicate_keys) return check_duplicates(*out, key_offsets);
    return true;
  }

  bool check_duplicates(const Value& obj, const std::vector<size_t>& key_offsets) {
    const auto& ms = obj.members;
    const size_t n = ms.size();
    size_t dup = n;  // index of a later duplicate, n if none
    if (n <= 16) {
      for (size_t j = 1; j < n && dup == n; ++j)
        for (size_t i = 0; i < j; ++i)
          if (ms[i].key == ms[j].key) {
            dup = j;
            break;
          }
    } else {
      std::vector<size_t> idx(n);
      for (size_t i = 0; i < n; ++i) idx[i] = i;
      std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
        int c = ms[a].key.compare(ms[b].key);
        return c < 0 || (c == 0 && a < b);
      });
      for (size_t i = 1; i < n; ++i)
        if (ms[idx[i - 1]].key == ms[idx[i]].key) {
          dup = idx[i];
          break;
        }
    }
    if (dup == n) return true;
    return fail(ParseError::Kind::kDuplicateKey, key_offsets[dup], "duplicate key \"" + ms[dup].key + "\"",
                ms[dup].key);
  }
};

// Exact integer from a number literal (no fraction/exponent). Returns false on overflow of
// the 64-bit magnitude. *negative receives the sign.
bool literal_magnitude(const std::string& lit, uint64_t* mag, bool* negative) {
  size_t i = 0;
  *negative = false;
  if (i < lit.size() && lit[i] == '-') {
    *negative = true;
    ++i;
  }
  if (i >= lit.size()) return false;
  uint64_t v = 0;
  for (; i < lit.size(); ++i) {
    if (!is_digit(lit[i])) return false;
    if (__builtin_mul_overflow(v, 10u, &v)) return false;
    if (__builtin_add_overflow(v, static_cast<uint64_t>(lit[i] - '0'), &v)) return false;
  }
  *mag = v;
  return true;
}

}  // namespace

bool Value::is_integer() const {
  if (type != Type::kNumber) return false;
  for (char c : text)
    if (c == '.' || c == 'e' || c == 'E') return false;
  return !text.empty();
}

bool Value::get_int64(int64_t* out) const {
  if (!is_integer()) return false;
  uint64_t mag = 0;
  bool neg = false;
  if (!literal_magnitude(text, &mag, &neg)) return false;
  if (neg) {
    if (mag > static_cast<uint64_t>(INT64_MAX) + 1u) return false;
    *out = mag == static_cast<uint64_t>(INT64_MAX) + 1u ? INT64_MIN : -static_cast<int64_t>(mag);
  } else {
    if (mag > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(mag);
  }
  return true;
}

bool Value::get_uint64(uint64_t* out) const {
  if (!is_integer()) return false;
  uint64_t mag = 0;
  bool neg = false;
  if (!literal_magnitude(text, &mag, &neg) || neg) return false;
  *out = mag;
  return true;
}

bool Value::get_double(double* out) const {
  if (type != Type::kNumber) return false;
  *out = number;
  return true;
}

bool Value::get_bool(bool* out) const {
  if (type != Type::kBool) return false;
  *out = boolean;
  return true;
}

bool Value::get_string(std::string* out) const {
  if (type != Type::kString) return false;
  *out = text;
  return true;
}

const Value* Value::find(std::string_view key) const {
  if (type != Type::kObject) return nullptr;
  for (const Member& m : members)
    if (m.key == key) return &m.value;
  return nullptr;
}

bool valid_utf8(const uint8_t* bytes, size_t len, size_t* bad_offset) {
  const uint8_t* p = bytes;
  const uint8_t* end = bytes + len;
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    size_t n = utf8_seq_len(p, end);
    if (n == 0) {
      if (bad_offset) *bad_offset = static_cast<size_t>(p - bytes);
      return false;
    }
    p += n;
  }
  return true;
}

bool parse(std::string_view text, Value* out, ParseError* error, const ParseOptions& options) {
  if (error) *error = ParseError{};
  *out = Value{};
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
  try {
    Parser parser(text, options, error);
    return parser.parse_document(out);
  } catch (const std::bad_alloc&) {
    *out = Value{};
    if (error) {
      error->kind = ParseError::Kind::kTooLarge;
      error->offset = 0;
      error->message = "out of memory while parsing JSON";
    }
    return false;
  }
#else
  Parser parser(text, options, error);
  return parser.parse_document(out);
#endif
}

// --- Accessor helpers --------------------------------------------------------------------------

namespace {
const Value* lookup(const Value& obj, std::string_view key, Get* status) {
  const Value* v = obj.find(key);
  if (!v) {
    *status = Get::kMissing;
    return nullptr;
  }
  if (v->is_null()) {
    *status = Get::kNull;
    return nullptr;
  }
  *status = Get::kOk;
  return v;
}
}  // namespace

Get get_int64(const Value& obj, std::string_view key, int64_t* out) {
  Get st;
  const Value* v = lookup(obj, key, &st);
  if (!v) return st;
  return v->get_int64(out) ? Get::kOk : Get::kWrongType;
}

Get get_double(const Value& obj, std::string_view key, double* out) {
  Get st;
  const Value* v = lookup(obj, key, &st);
  if (!v) return st;
  return v->get_double(out) ? Get::kOk : Get::kWrongType;
}

Get get_string(const Value& obj, std::string_view key, std::string* out) {
  Get st;
  const Value* v = lookup(obj, key, &st);
  if (!v) return st;
  return v->get_string(out) ? Get::kOk : Get::kWrongType;
}

Get get_bool(const Value& obj, std::string_view key, bool* out) {
  Get st;
  const Value* v = lookup(obj, key, &st);
  if (!v) return st;
  return v->get_bool(out) ? Get::kOk : Get::kWrongType;
}

}  // namespace json
}  // namespace xlam
