// Validate before allocate (shared/RELIABILITY.md 7.1 rows G/S, 7.5 rule 1): parsing any file of
// the committed safetensors corpus (test/fixtures/safetensors, every class S01-S29) and the
// oversized headers below allocates at most the file's size + 1 MiB at its peak, whatever the
// header claims, and takes under 100 ms. A counting operator new measures the live bytes.
#include <dirent.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "check.h"
#include "safetensors.h"

namespace {

// Live and peak bytes allocated through operator new while counting is on (this thread only).
thread_local bool counting = false;
thread_local int64_t live = 0;
thread_local int64_t peak = 0;

struct alignas(std::max_align_t) Prefix {
  size_t size;
};

void* counted_new(size_t n) {
  auto* p = static_cast<Prefix*>(std::malloc(sizeof(Prefix) + n));
  if (!p) throw std::bad_alloc();
  p->size = n;
  if (counting) {
    live += static_cast<int64_t>(n);
    if (live > peak) peak = live;
  }
  return p + 1;
}

void counted_delete(void* q) noexcept {
  if (!q) return;
  Prefix* p = static_cast<Prefix*>(q) - 1;
  if (counting) live -= static_cast<int64_t>(p->size);
  std::free(p);
}

}  // namespace

void* operator new(size_t n) { return counted_new(n); }
void* operator new[](size_t n) { return counted_new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_new(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_new(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { counted_delete(p); }
void operator delete[](void* p) noexcept { counted_delete(p); }
void operator delete(void* p, size_t) noexcept { counted_delete(p); }
void operator delete[](void* p, size_t) noexcept { counted_delete(p); }

namespace {

std::string corpus_dir() {
  const char* fixtures = std::getenv("XLAM_FIXTURES");  // test/fixtures/models
  return std::string(fixtures ? fixtures : "test/fixtures/models") + "/../safetensors";
}

std::vector<std::string> corpus_files() {
  std::vector<std::string> out;
  DIR* d = opendir(corpus_dir().c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0) out.push_back(name);
  }
  closedir(d);
  return out;
}

struct Measured {
  int64_t peak;
  double ms;
  xlam::Code code;
};

Measured measure(const std::string& bytes) {
  xlam::SafetensorsHeader h;
  live = 0;
  peak = 0;
  auto t0 = std::chrono::steady_clock::now();
  counting = true;
  xlam::Status s = xlam::parse_safetensors_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "t.safetensors", &h);
  h = xlam::SafetensorsHeader{};  // freed while counting: live returns to what the status holds
  counting = false;
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return {peak, ms, s.code};
}

std::string with_header(const std::string& json, uint64_t claimed) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; i++) out[i] = static_cast<char>((claimed >> (8 * i)) & 0xff);
  return out + json;
}

}  // namespace

TEST_CASE("allocation: each safetensors corpus file peaks at <= its size + 1 MiB and parses in < 100 ms") {
  std::vector<std::string> files = corpus_files();
  CHECK(files.size() >= 40);  // the committed corpus (45 files)
  for (const std::string& name : files) {
    std::ifstream in(corpus_dir() + "/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    Measured m = measure(bytes);
    const int64_t bound = static_cast<int64_t>(bytes.size()) + (1 << 20);
    if (m.peak > bound || m.ms >= 100) std::printf("  %s: %lld bytes at peak (bound %lld), %.2f ms\n", name.c_str(), (long long)m.peak, (long long)bound, m.ms);
    CHECK(m.peak <= bound);
    CHECK(m.ms < 100);
  }
}

TEST_CASE("allocation: headers that claim more than they hold allocate nothing of that size") {
  // A header length of 100,000,000 over a 40-byte file, and 2^63: refused before any buffer.
  for (uint64_t claimed : {uint64_t{100'000'000}, uint64_t{1} << 63, uint64_t{99'999'999}}) {
    Measured m = measure(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", claimed));
    CHECK(m.code != xlam::Code::kOk);
    CHECK(m.peak <= (1 << 20));
  }
  // A shape whose product is 2^62 elements: validated arithmetic, no tensor-sized buffer.
  const std::string huge = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483648,2147483648],\"data_offsets\":[0,4]}}";
  Measured m = measure(with_header(huge, huge.size()));
  CHECK(m.code != xlam::Code::kOk);
  CHECK(m.peak <= static_cast<int64_t>(huge.size()) + (1 << 20));
  // A header of 40,000 tensors holds more JSON values than kMaxSafetensorsJsonValues: refused, and
  // the parse peaks at a bounded multiple of the header (the values it kept before the count ran out).
  std::string many = "{";
  for (int i = 0; i < 40000; i++) {
    if (i) many += ',';
    many += "\"t" + std::to_string(i) + "\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[" + std::to_string(i) + "," + std::to_string(i + 1) + "]}";
  }
  many += "}";
  std::string file = with_header(many, many.size()) + std::string(40000, '\0');
  Measured big = measure(file);
  CHECK(big.code == xlam::Code::kBadHeader);
  CHECK(big.peak <= 48ll << 20);
  std::printf("  40,000 tensors: file %zu bytes, refused with peak %lld bytes, %.1f ms\n", file.size(), (long long)big.peak, big.ms);
  // 20,000 tensors load; the entries they need are reported.
  std::string ok = "{";
  for (int i = 0; i < 20000; i++) {
    if (i) ok += ',';
    ok += "\"t" + std::to_string(i) + "\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[" + std::to_string(i) + "," + std::to_string(i + 1) + "]}";
  }
  ok += "}";
  Measured fine = measure(with_header(ok, ok.size()) + std::string(20000, '\0'));
  CHECK(fine.code == xlam::Code::kOk);
  std::printf("  20,000 tensors: loads with peak %lld bytes, %.1f ms\n", (long long)fine.peak, fine.ms);
}
