// A minimal test registry for the native test binary (xlam-native-tests). Each TEST_CASE runs in
// order; CHECK failures are counted and printed, never abort. main.cc prints "N passed, N failed".
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace xlam_test {

struct Case {
  const char* name;
  void (*fn)();
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}
inline int& failures() {
  static int n = 0;
  return n;
}

struct Register {
  Register(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

}  // namespace xlam_test

#define XLAM_CONCAT2(a, b) a##b
#define XLAM_CONCAT(a, b) XLAM_CONCAT2(a, b)
#define TEST_CASE(name)                                                              \
  static void XLAM_CONCAT(test_fn_, __LINE__)();                                     \
  static ::xlam_test::Register XLAM_CONCAT(test_reg_, __LINE__)(name, &XLAM_CONCAT(test_fn_, __LINE__)); \
  static void XLAM_CONCAT(test_fn_, __LINE__)()

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      ++::xlam_test::failures();                                                     \
      std::fprintf(stderr, "  CHECK failed %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                                \
  } while (0)

#define CHECK_MSG(cond, ...)                                                         \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      ++::xlam_test::failures();                                                     \
      std::fprintf(stderr, "  CHECK failed %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                             \
      std::fprintf(stderr, "\n");                                                    \
    }                                                                                \
  } while (0)
