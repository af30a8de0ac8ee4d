// Host-side control of the CUDA emulator (cuda/emu/README.md). Plain C++: usable from ordinary .cc
// files of an emulated build (-DCUDA_EMU) without the emulation header or any kernel keyword.
#pragma once
#include <cstdint>

namespace cuda_emu {

// The thread schedule of the following launches: "forward", "reverse" or "random:<seed>", each
// optionally followed by "+rr" (round-robin interleaving instead of the warp-greedy default).
// The environment variable CUDA_EMU_SCHEDULE sets the initial one. Returns false (and keeps the
// current schedule) if `spec` does not parse.
bool set_schedule(const char* spec);
// The current schedule in the form set_schedule accepts, e.g. "random:12345".
const char* schedule_name();

// Why the last failed launch or API call failed ("" if none failed yet): the detector's message
// with the kernel, block, thread and call site. Kept until the next failure.
const char* last_error_message();

// Counters since the process started (or since reset_stats), for tests and benchmarks.
struct Stats {
  uint64_t launches;     // launches that ran (accepted by validation)
  uint64_t blocks;       // blocks run
  uint64_t switches;     // fiber-to-fiber (and scheduler-to-fiber) context switches
  uint64_t barriers;     // __syncthreads* generations completed
  uint64_t collectives;  // warp collectives completed (one per participating group)
};
Stats stats();
void reset_stats();

// Bytes currently allocated with cudaMalloc (all live allocations), and how many allocations.
uint64_t device_bytes_in_use();
uint64_t device_allocations();

}  // namespace cuda_emu
