// Runs every registered TEST_CASE, or those whose name contains argv[1].
#include <cstdio>
#include <cstring>

#include "check.h"

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const auto& c : xlam_test::registry()) {
    if (filter && !std::strstr(c.name, filter)) continue;
    int before = xlam_test::failures();
    c.fn();
    bool ok = xlam_test::failures() == before;
    std::printf("%s %s\n", ok ? "ok" : "FAIL", c.name);
    (ok ? passed : failed)++;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
