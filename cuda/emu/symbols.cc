// Kernel names for diagnostics. dladdr sees only exported symbols, and kernels often live in
// anonymous namespaces (local symbols), so the ELF symbol table of the object that holds the
// address is read once (mmap'ed, cached) as a fallback. Names are demangled.
#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "internal.h"

namespace cuda_emu::rt {
namespace {

struct Symbol {
  uint64_t size;
  std::string name;
};
// Per object file: local and global function symbols by address relative to its load base.
using SymbolMap = std::map<uint64_t, Symbol>;

SymbolMap read_symtab(const char* path) {
  SymbolMap out;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    close(fd);
    return out;
  }
  const size_t len = static_cast<size_t>(st.st_size);
  void* map = mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return out;
  const auto* base = static_cast<const unsigned char*>(map);
  const auto* eh = static_cast<const Elf64_Ehdr*>(map);
  const bool ok = std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
                  eh->e_shoff + uint64_t{eh->e_shnum} * sizeof(Elf64_Shdr) <= len;
  if (ok) {
    const auto* sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; ++i) {
      if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
      const Elf64_Shdr& strtab = sh[sh[i].sh_link];
      if (sh[i].sh_offset + sh[i].sh_size > len || strtab.sh_offset + strtab.sh_size > len) continue;
      const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + sh[i].sh_offset);
      const size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
      const char* names = reinterpret_cast<const char*>(base + strtab.sh_offset);
      for (size_t k = 0; k < n; ++k) {
        if (ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC || syms[k].st_value == 0) continue;
        if (syms[k].st_name >= strtab.sh_size) continue;
        out[syms[k].st_value] = Symbol{syms[k].st_size, names + syms[k].st_name};
      }
    }
  }
  munmap(map, len);
  return out;
}

std::string demangle(const std::string& s) {
  int status = 0;
  char* d = abi::__cxa_demangle(s.c_str(), nullptr, nullptr, &status);
  std::string r = status == 0 && d ? d : s;
  std::free(d);
  return r;
}

}  // namespace

std::string symbol_name(const void* addr) {
  Dl_info info;
  if (!dladdr(addr, &info)) {
    char b[32];
    std::snprintf(b, sizeof b, "%p", addr);
    return b;
  }
  if (info.dli_sname && info.dli_saddr == addr) return demangle(info.dli_sname);
  static std::mutex mu;
  static std::map<std::string, SymbolMap>* cache = new std::map<std::string, SymbolMap>;
  std::lock_guard<std::mutex> lock(mu);
  const std::string path = info.dli_fname ? info.dli_fname : "";
  auto it = cache->find(path);
  if (it == cache->end()) it = cache->emplace(path, read_symtab(path.c_str())).first;
  // Symbol values are relative to the load base for shared objects and PIE executables.
  const auto* eh = static_cast<const Elf64_Ehdr*>(info.dli_fbase);
  const uint64_t rel = reinterpret_cast<uint64_t>(addr) -
                       (eh && eh->e_type == ET_DYN ? reinterpret_cast<uint64_t>(info.dli_fbase) : 0);
  auto s = it->second.upper_bound(rel);
  if (s != it->second.begin()) {
    --s;
    if (rel < s->first + (s->second.size ? s->second.size : 1)) return demangle(s->second.name);
  }
  char b[32];
  std::snprintf(b, sizeof b, "%p", addr);
  return b;
}

}  // namespace cuda_emu::rt
