// Tests for native/src/json.{h,cc}: the strict JSON parser.
#include <cstring>
#include <string>

#include "check.h"
#include "json.h"

using xlam::json::Get;
using xlam::json::ParseError;
using xlam::json::ParseOptions;
using xlam::json::Type;
using xlam::json::Value;

namespace {

bool ok(const std::string& text, Value* v = nullptr, const ParseOptions& opts = {}) {
  Value tmp;
  ParseError err;
  return xlam::json::parse(text, v ? v : &tmp, &err, opts);
}

ParseError::Kind fail_kind(const std::string& text, const ParseOptions& opts = {}) {
  Value v;
  ParseError err;
  if (xlam::json::parse(text, &v, &err, opts)) return ParseError::Kind::kNone;
  return err.kind;
}

std::string nest(int depth) { return std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']'); }

}  // namespace

TEST_CASE("json: scalars and whitespace") {
  Value v;
  CHECK(ok(" \t\r\n null \n", &v) && v.is_null());
  CHECK(ok("true", &v) && v.is_bool() && v.boolean);
  CHECK(ok("false", &v) && v.is_bool() && !v.boolean);
  CHECK(ok("\"hi\"", &v) && v.is_string() && v.text == "hi");
  CHECK(ok("0", &v) && v.is_number() && v.number == 0.0);
  CHECK(ok("-12.5e2", &v) && v.number == -1250.0 && v.text == "-12.5e2");
  CHECK(!ok(""));
  CHECK(!ok("   "));
  CHECK(!ok("nul"));
  CHECK(!ok("True"));
  CHECK(!ok("NaN"));
  CHECK(!ok("Infinity"));
  CHECK(!ok("1 2"));
  CHECK(!ok("{} x"));
  CHECK(!ok("\xef\xbb\xbf{}"));  // BOM is not JSON whitespace
  CHECK(!ok(std::string("{}\0", 3)));
}

TEST_CASE("json: number grammar") {
  CHECK(!ok("01"));
  CHECK(!ok("-"));
  CHECK(!ok("+1"));
  CHECK(!ok("1."));
  CHECK(!ok(".5"));
  CHECK(!ok("1e"));
  CHECK(!ok("1e+"));
  CHECK(!ok("0x10"));
  CHECK(ok("-0"));
  CHECK(ok("1E+2"));
  CHECK(ok("0.0e-0"));
  Value v;
  CHECK(fail_kind("1e400") == ParseError::Kind::kSyntax);     // overflows a double
  CHECK(fail_kind("-1e400") == ParseError::Kind::kSyntax);
  CHECK(ok("1e-400", &v) && v.number == 0.0);                  // underflow -> 0
  CHECK(ok("0." + std::string(400, '0') + "1", &v) && v.number == 0.0);
  CHECK(ok("0." + std::string(300, '0') + "1", &v) && v.number > 0.0 && v.number < 1e-300);
  CHECK(ok("123456789012345678901234567890", &v) && v.number > 1.2e29);
}

TEST_CASE("json: integer helpers") {
  Value v;
  int64_t i = 0;
  uint64_t u = 0;
  CHECK(ok("42", &v) && v.is_integer() && v.get_int64(&i) && i == 42);
  CHECK(ok("-42", &v) && v.get_int64(&i) && i == -42 && !v.get_uint64(&u));
  CHECK(ok("1.0", &v) && !v.is_integer() && !v.get_int64(&i) && !v.get_uint64(&u));
  CHECK(ok("1e3", &v) && !v.is_integer() && !v.get_int64(&i));
  CHECK(ok("1E3", &v) && !v.is_integer());
  CHECK(ok("9223372036854775807", &v) && v.get_int64(&i) && i == INT64_MAX);
  CHECK(ok("9223372036854775808", &v) && !v.get_int64(&i) && v.get_uint64(&u) && u == 9223372036854775808ull);
  CHECK(ok("-9223372036854775808", &v) && v.get_int64(&i) && i == INT64_MIN);
  CHECK(ok("-9223372036854775809", &v) && !v.get_int64(&i));
  CHECK(ok("18446744073709551615", &v) && v.get_uint64(&u) && u == UINT64_MAX);
  CHECK(ok("18446744073709551616", &v) && !v.get_uint64(&u) && v.is_integer());
  CHECK(ok("-0", &v) && v.get_int64(&i) && i == 0 && !v.get_uint64(&u));
  CHECK(ok("\"5\"", &v) && !v.get_int64(&i) && !v.is_integer());
  double d = 0;
  CHECK(ok("2.5", &v) && v.get_double(&d) && d == 2.5);
  CHECK(ok("true", &v) && !v.get_double(&d));
}

TEST_CASE("json: strings, escapes and UTF-8") {
  Value v;
  CHECK(ok(R"("a\"b\\c\/d\b\f\n\r\t")", &v) && v.text == "a\"b\\c/d\b\f\n\r\t");
  CHECK(ok(R"("\u0041\u00e9\u20AC")", &v) && v.text == "A\xc3\xa9\xe2\x82\xac");
  CHECK(ok(R"("\ud83d\ude00")", &v) && v.text == "\xf0\x9f\x98\x80");
  CHECK(ok(R"("\u0000")", &v) && v.text.size() == 1 && v.text[0] == '\0');
  CHECK(ok("\"\xf0\x9f\x98\x80 \xc3\xa9\"", &v) && v.text == "\xf0\x9f\x98\x80 \xc3\xa9");
  CHECK(fail_kind(R"("\ud800")") == ParseError::Kind::kUtf8);         // lone high
  CHECK(fail_kind(R"("\ud800x")") == ParseError::Kind::kUtf8);
  CHECK(fail_kind(R"("\ud800\u0041")") == ParseError::Kind::kUtf8);   // high + non-low
  CHECK(fail_kind(R"("\udc00")") == ParseError::Kind::kUtf8);         // lone low
  CHECK(!ok(R"("\x")"));
  CHECK(!ok(R"("\u12")"));
  CHECK(!ok(R"("\u12g4")"));
  CHECK(!ok("\"a\tb\""));        // raw control character
  CHECK(!ok("\"a\nb\""));
  CHECK(!ok("\"abc"));
  CHECK(!ok("'abc'"));
  CHECK(fail_kind("\"\xff\"") == ParseError::Kind::kUtf8);
  CHECK(fail_kind("\"\xc0\xaf\"") == ParseError::Kind::kUtf8);        // overlong '/'
  CHECK(fail_kind("\"\xe0\x80\xaf\"") == ParseError::Kind::kUtf8);    // overlong
  CHECK(fail_kind("\"\xed\xa0\x80\"") == ParseError::Kind::kUtf8);    // encoded surrogate
  CHECK(fail_kind("\"\xf4\x90\x80\x80\"") == ParseError::Kind::kUtf8);  // > U+10FFFF
  CHECK(fail_kind("\"\xe2\x82\"") == ParseError::Kind::kUtf8);        // truncated sequence
  CHECK(fail_kind("\"\x80\"") == ParseError::Kind::kUtf8);            // stray continuation
  const uint8_t good[] = {'a', 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80};
  const uint8_t bad[] = {'a', 'b', 0xc3};
  size_t at = 0;
  CHECK(xlam::json::valid_utf8(good, sizeof good));
  CHECK(!xlam::json::valid_utf8(bad, sizeof bad, &at) && at == 2);
}

TEST_CASE("json: arrays and objects keep order") {
  Value v;
  CHECK(ok(R"({"b": 1, "a": [true, null, "x", {"c": []}], "c": {}})", &v));
  CHECK(v.is_object() && v.members.size() == 3);
  CHECK(v.members[0].key == "b" && v.members[1].key == "a" && v.members[2].key == "c");
  const Value* a = v.find("a");
  CHECK(a && a->is_array() && a->items.size() == 4);
  CHECK(a && a->items[3].find("c") && a->items[3].find("c")->is_array());
  CHECK(v.find("zz") == nullptr);
  CHECK(a && a->find("x") == nullptr);  // not an object
  CHECK(!ok("[1,]"));
  CHECK(!ok("[,1]"));
  CHECK(!ok("{\"a\":1,}"));
  CHECK(!ok("{\"a\" 1}"));
  CHECK(!ok("{a:1}"));
  CHECK(!ok("{\"a\":1"));
  CHECK(!ok("[1 2]"));
  CHECK(ok("[ ]") && ok("{ }"));
}

TEST_CASE("json: nesting depth limit") {
  CHECK(ok(nest(64)));
  CHECK(fail_kind(nest(65)) == ParseError::Kind::kDepth);
  CHECK(fail_kind(nest(100000)) == ParseError::Kind::kDepth);  // no stack overflow
  std::string objs;
  for (int i = 0; i < 65; ++i) objs += "{\"a\":";
  objs += "1";
  for (int i = 0; i < 65; ++i) objs += "}";
  CHECK(fail_kind(objs) == ParseError::Kind::kDepth);
  ParseOptions deep;
  deep.max_depth = 127;
  CHECK(ok(nest(127), nullptr, deep));
  CHECK(fail_kind(nest(128), deep) == ParseError::Kind::kDepth);
}

TEST_CASE("json: node limit") {
  ParseOptions small;
  small.max_nodes = 10;
  CHECK(ok("[1,2,3,4,5,6,7,8,9]", nullptr, small));  // 10 values
  CHECK(fail_kind("[1,2,3,4,5,6,7,8,9,10]", small) == ParseError::Kind::kTooLarge);
}

TEST_CASE("json: duplicate keys") {
  Value v;
  CHECK(ok(R"({"a":1,"a":2})", &v));  // allowed by default, first one found
  int64_t i = 0;
  CHECK(v.members.size() == 2 && v.find("a")->get_int64(&i) && i == 1);
  ParseOptions strict;
  strict.reject_duplicate_keys = true;
  ParseError err;
  CHECK(!xlam::json::parse(R"({"x":0, "a":1,"a":2})", &v, &err, strict));
  CHECK(err.kind == ParseError::Kind::kDuplicateKey && err.key == "a" && err.offset == 14);
  CHECK(err.message.find("byte 14") != std::string::npos);
  // Nested objects are checked too; equal keys in different objects are fine.
  CHECK(ok(R"({"a":{"k":1},"b":{"k":2}})", nullptr, strict));
  CHECK(fail_kind(R"({"a":{"k":1,"k":2}})", strict) == ParseError::Kind::kDuplicateKey);
  // Many keys (sorted path).
  std::string big = "{";
  for (int k = 0; k < 100; ++k) big += "\"k" + std::to_string(k) + "\":" + std::to_string(k) + ",";
  CHECK(ok(big + "\"z\":0}", nullptr, strict));
  CHECK(!xlam::json::parse(big + "\"k57\":0}", &v, &err, strict));
  CHECK(err.kind == ParseError::Kind::kDuplicateKey && err.key == "k57");
  // Escaped spelling of the same key is a duplicate.
  CHECK(fail_kind(R"({"a":1,"\u0061":2})", strict) == ParseError::Kind::kDuplicateKey);
}

TEST_CASE("json: error offsets") {
  Value v;
  ParseError err;
  CHECK(!xlam::json::parse("[1, 2, x]", &v, &err));
  CHECK(err.kind == ParseError::Kind::kSyntax && err.offset == 7);
  CHECK(!xlam::json::parse("{\"a\": 1} junk", &v, &err));
  CHECK(err.offset == 9 && err.message.find("byte 9") != std::string::npos);
}

TEST_CASE("json: accessor helpers") {
  Value v;
  CHECK(ok(R"({"i": 3, "f": 1.5, "big": 1e3, "s": "x", "b": true, "n": null})", &v));
  int64_t i = 0;
  double d = 0;
  std::string s;
  bool b = false;
  CHECK(xlam::json::get_int64(v, "i", &i) == Get::kOk && i == 3);
  CHECK(xlam::json::get_int64(v, "f", &i) == Get::kWrongType);
  CHECK(xlam::json::get_int64(v, "big", &i) == Get::kWrongType);
  CHECK(xlam::json::get_int64(v, "s", &i) == Get::kWrongType);
  CHECK(xlam::json::get_int64(v, "n", &i) == Get::kNull);
  CHECK(xlam::json::get_int64(v, "missing", &i) == Get::kMissing);
  CHECK(xlam::json::get_double(v, "i", &d) == Get::kOk && d == 3.0);
  CHECK(xlam::json::get_double(v, "f", &d) == Get::kOk && d == 1.5);
  CHECK(xlam::json::get_double(v, "b", &d) == Get::kWrongType);
  CHECK(xlam::json::get_string(v, "s", &s) == Get::kOk && s == "x");
  CHECK(xlam::json::get_string(v, "i", &s) == Get::kWrongType);
  CHECK(xlam::json::get_bool(v, "b", &b) == Get::kOk && b);
  CHECK(xlam::json::get_bool(v, "i", &b) == Get::kWrongType);
  Value arr;
  CHECK(ok("[1]", &arr) && xlam::json::get_int64(arr, "i", &i) == Get::kMissing);
  CHECK(std::strcmp(xlam::json::type_name(Type::kObject), "object") == 0);
}
