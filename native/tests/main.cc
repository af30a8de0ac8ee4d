// Runs every registered TEST_CASE, or those whose name contains argv[1]. Cases named "full: ..."
// (large matrices, run by scripts) run only when the filter selects them.
#include <cstdio>
#include <cstring>

#include "check.h"

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const auto& c : xlam_test::registry()) {
    if (filter && !std::strstr(c.name, filter)) continue;
    if (!filter && std::strncmp(c.name, "full:", 5) == 0) continue;
    int before = xlam_test::failures();
    c.fn();
    bool ok = xlam_test::failures() == before;
    std::printf("%s %s\n", ok ? "ok" : "FAIL", c.name);
    (ok ? passed : failed)++;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
