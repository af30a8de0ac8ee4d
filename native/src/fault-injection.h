// Test-only fault injection: proves that a C++ exception anywhere on a path reachable from JS
// (a binding method on the JS thread, a load on a libuv worker, a step on the engine thread)
// becomes a typed JS error instead of ending the process.
//
// The environment variable XLAM_TEST_FAULT, read once per process, lists the sites that throw:
// comma-separated `site:kind[:times]` entries, `kind` one of `bad_alloc`, `runtime_error` or
// `other` (not a std::exception), `times` (default 1) how many hits throw. Sites: `load`
// (Engine::load), `forward` (a step, after its blocks are taken, before the forward pass), and
// each method of NativeEngine and GrammarSession by its JS name (`submit`, `stats`, ...; the two
// classes share names), `loadEngine` and `GrammarSession` (its constructor). Entries for the
// same site throw in turn. Unset, a site costs one branch on a static flag.
#pragma once
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace xlam::fault {

// Thrown by kind `other`: what an unexpected non-std exception looks like.
struct InjectedFault {};

struct Site {
  std::string name;
  std::string kind;
  std::atomic<int64_t> left{0};
};

inline std::vector<std::unique_ptr<Site>>& sites() {
  static std::vector<std::unique_ptr<Site>> all;
  return all;
}

// Parses XLAM_TEST_FAULT once; true when it names any site.
inline bool enabled() {
  static const bool on = [] {
    const char* spec = std::getenv("XLAM_TEST_FAULT");
    if (spec == nullptr || *spec == '\0') return false;
    std::string s(spec);
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(',', start);
      if (end == std::string::npos) end = s.size();
      const std::string entry = s.substr(start, end - start);
      const size_t c1 = entry.find(':');
      if (c1 != std::string::npos) {
        auto site = std::make_unique<Site>();
        site->name = entry.substr(0, c1);
        const size_t c2 = entry.find(':', c1 + 1);
        site->kind = entry.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
        site->left = c2 == std::string::npos ? 1 : std::strtoll(entry.c_str() + c2 + 1, nullptr, 10);
        sites().push_back(std::move(site));
      }
      start = end + 1;
    }
    return !sites().empty();
  }();
  return on;
}

// Throws the configured exception when `name` is a site with hits left.
inline void point(const char* name) {
  if (!enabled()) return;
  for (auto& site : sites()) {
    if (site->name != name) continue;
    if (site->left.fetch_sub(1) <= 0) continue;  // used up: a later entry for the site may throw
    if (site->kind == "bad_alloc") throw std::bad_alloc();
    if (site->kind == "runtime_error") throw std::runtime_error(std::string("injected fault at ") + name);
    throw InjectedFault{};
  }
}

}  // namespace xlam::fault
