// libFuzzer target: a safetensors file image through the header validator
// (parse_safetensors_header, as SafetensorsFile::open runs it on a whole-file mapping). Any input
// must give a Status; an accepted header must satisfy what the loader relies on.
#include <cstddef>
#include <cstdint>
#include <string>

#include "safetensors.h"

using namespace xlam;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SafetensorsHeader h;
  Status st = parse_safetensors_header(data, size, "fuzz.safetensors", &h);
  if (!st.ok()) {
    if (st.message.empty()) __builtin_trap();  // every error explains itself
    return 0;
  }
  // Accepted: the data section is the rest of the file and the tensors tile it in order.
  if (h.data_start != 8 + h.header_len || h.data_start + h.data_len != size) __builtin_trap();
  uint64_t at = 0;
  for (const TensorEntry& t : h.tensors) {
    if (t.begin != at || t.end < t.begin || t.end > h.data_len) __builtin_trap();
    const TensorEntry* found = h.find(t.name);
    if (found != &t) __builtin_trap();
    const uint64_t bits = safe_dtype_bits(t.dtype);
    const uint64_t numel = static_cast<uint64_t>(t.numel());
    if ((numel * bits + 7) / 8 != t.nbytes()) __builtin_trap();
    DType dt;
    Status es = engine_dtype(t, "fuzz.safetensors", &dt);
    (void)es;
    at = t.end;
  }
  if (at != h.data_len || h.index.size() != h.tensors.size()) __builtin_trap();
  return 0;
}
