// Philox4x32-10, a counter-based random generator (Salmon et al., "Parallel random numbers: as
// easy as 1, 2, 3", SC'11): the n-th draw of a stream is a pure function of (key, n), so a
// request's samples do not depend on what else runs in the batch, and the CUDA backend produces
// the same numbers (philox4x32_block and philox_uniform are host and device code: XLAM_HD).
#pragma once
#include <array>
#include <cstdint>

#include "host-device.h"

namespace xlam {

// One block: out = Philox4x32-10(ctr, key).
XLAM_HD inline void philox4x32_block(const uint32_t* ctr,  // u32 [4]
                                     const uint32_t* key,  // u32 [2]
                                     uint32_t* out) {      // u32 [4]
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kM0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(kM1) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0, n1 = static_cast<uint32_t>(p1);
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1, n3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += kW0;
    k1 += kW1;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

inline std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
  std::array<uint32_t, 4> out{};
  philox4x32_block(ctr.data(), key.data(), out.data());
  return out;
}

// A uniform double in [0, 1) for draw `n` of the stream `seed` (53 random bits).
XLAM_HD inline double philox_uniform(uint64_t seed, uint64_t n) {
  const uint32_t ctr[4] = {static_cast<uint32_t>(n), static_cast<uint32_t>(n >> 32), 0, 0};
  const uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  uint32_t r[4];
  philox4x32_block(ctr, key, r);
  const uint64_t bits = (static_cast<uint64_t>(r[0]) << 21) ^ (static_cast<uint64_t>(r[1]) >> 11);
  return static_cast<double>(bits & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

}  // namespace xlam
