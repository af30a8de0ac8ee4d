// Private state of the emulator's runtime (the cuda/emu/*.cc files), never seen by kernels.
//
// One launch runs at a time (a process-wide mutex), its blocks one after another on the launching
// OS thread. A block's CUDA threads are Fibers; `Sched` holds the running block: fibers in
// schedule order (warp by warp), per-warp collective groups, the barrier.
#pragma once
#include <cuda_runtime.h>

#include <cstdarg>
#include <cstdint>
#include <string>
#include <vector>

#include "api.h"
#include "device.h"
#include "launch.h"

namespace cuda_emu::rt {

// --- fibers (fiber.cc) ----------------------------------------------------------------------------
struct Fiber;
// Saves the callee-saved registers and stack pointer of `from`, resumes `to` (fiber.cc, asm).
void transfer(Fiber* from, Fiber* to, bool from_exits);
// Prepares `f` to start at fiber_entry(f) on its stack the next time it is resumed.
void prepare(Fiber* f);
// Guarantees `n` stacks exist (mmap'ed once, reused across blocks and launches).
void ensure_stacks(std::vector<Fiber>& fibers, size_t n);
// After a failed block: forget sanitizer poison left on the stacks of abandoned frames.
void clean_stacks(std::vector<Fiber>& fibers);
// The launching thread's own context, recorded when a block starts.
void capture_main(Fiber* main);

enum class State : uint8_t {
  kRunnable,    // may run (fresh fibers too: `started` says whether it has run yet)
  kBarrier,     // parked in __syncthreads*
  kWarp,        // parked in a warp collective
  kActiveMask,  // parked in __activemask
  kExited,
};

struct Fiber {
  void* sp = nullptr;  // saved stack pointer while not running
  char* stack = nullptr;
  size_t stack_size = 0;
  void* asan_fake = nullptr;  // ASan fake-stack handle across a switch
  void* tsan = nullptr;       // TSan fiber context
  // The CUDA thread it runs in the current block:
  uint3 tid{0, 0, 0};
  unsigned linear = 0, warp = 0, lane = 0;
  unsigned pos = 0;   // position in the schedule order
  unsigned wpos = 0;  // position of its warp in the warp order
  State state = State::kRunnable;
  bool started = false;
  // Where it is parked (diagnostics) and what it waits for:
  const char* what = nullptr;
  const char* file = nullptr;
  int line = 0;
  detail::CollOp* op = nullptr;  // kWarp: its operands and result
  int group = -1;                // kWarp: index into its warp's groups
  uint32_t group_id = 0;         // kWarp: unique id of that group (TSan sync object)
  uint64_t bar_gen = 0;          // kBarrier: the barrier generation it waits for
  unsigned am_result = 0;        // kActiveMask: the mask once resolved
};

// The lanes of one warp that are parked in the same collective (same mask). Lanes with disjoint
// masks (divergent code) form separate groups.
struct Group {
  unsigned mask = 0;
  unsigned arrived = 0;
  detail::CollOp* proto = nullptr;  // the first arrival: kind, width, site to compare against
  uint32_t id = 0;
};

struct Warp {
  unsigned start = 0, len = 0;  // its lanes in the schedule order: order[start, start+len)
  unsigned present = 0;         // lanes that exist (a partial last warp has fewer)
  unsigned exited = 0;
  unsigned n_runnable = 0;
  unsigned n_activemask = 0;
  int fiber[32];                // lane -> fiber index (-1 if absent)
  Group groups[32];
  unsigned ngroups = 0;
  uint32_t next_group_id = 0;
};

struct Schedule {
  enum Order : uint8_t { kForward, kReverse, kRandom } order = kForward;
  uint64_t seed = 0;
  bool round_robin = false;
};

struct Sched {
  Schedule schedule;
  std::string schedule_name = "forward";
  uint64_t launch_ordinal = 0;  // launches since set_schedule (random seeds derive from it)

  // The running launch.
  const detail::LaunchDesc* launch = nullptr;
  std::string kernel_name;
  unsigned char* smem = nullptr;  // dynamic shared memory of the launch
  size_t smem_bytes = 0;

  // The running block.
  Fiber main;
  std::vector<Fiber> fibers;  // index = linear thread id; stacks persist across blocks
  std::vector<unsigned> order;  // schedule order of fiber indices, warp by warp
  std::vector<Warp> warps;      // by warp index
  std::vector<unsigned> warp_order;  // warp indices in schedule order
  unsigned nthreads = 0;
  unsigned n_exited = 0;
  Fiber* current = nullptr;
  // Barrier state.
  unsigned bar_waiting = 0;
  uint64_t bar_gen = 0;
  const char* bar_file = nullptr;
  int bar_line = 0;
  int bar_op = 0;
  unsigned bar_tid = 0;  // the first thread that waits there (diagnostics)
  int bar_acc[3] = {0, 1, 0};  // count, and, or of the current generation
  int bar_result[2][3];        // results by generation parity
  uint64_t spins = 0;          // failed CAS / nanosleep since the last progress
  // Failure of the block: every fiber unwinds, the launch returns cudaErrorLaunchFailure.
  bool failed = false;
};
extern Sched g_sched;
inline Sched& sched() { return g_sched; }

// --- scheduler.cc ---------------------------------------------------------------------------------
// Parks the current fiber (already in its new state) or lets it go on (runnable), and runs the
// next fiber of the schedule; returns when this fiber is resumed. restart: begin the search at
// the start of the schedule order (after a barrier release).
void run_next(Fiber* f, bool restart);
// Marks a parked fiber runnable again.
void wake(Fiber* f);
// Records a failure of the running block and unwinds the calling fiber (throws).
[[noreturn]] void fail_here(const std::string& msg);
// "kernel K block (x,y,z) thread (x,y,z)": who is failing.
std::string who(const Fiber* f);
std::string site(const char* file, int line);
// Resolves the __activemask waiters of a warp that has no runnable lane (collectives.cc).
void resolve_activemask(Warp& w);
// A thread exited: pending groups of its warp may complete (collectives.cc).
void warp_lane_exited(Warp& w, Fiber* f);
// Runs the kernel body on fiber `f`, then retires it; never returns (scheduler.cc).
void fiber_main(Fiber* f);  // not [[noreturn]]: ASan would unpoison the stack before each call

// A barrier generation is complete: wakes its waiters (scheduler.cc).
void release_barrier();
// Records the first failure of the running block (the launch's error message); no unwinding.
void record_failure(const std::string& msg);
std::string format(const char* fmt, va_list ap);
// Failed CAS / nanosleep yields without progress before a thread is said to spin forever.
constexpr uint64_t kSpinLimit = 2000000;
#if defined(CUDA_EMU_TSAN)
// Happens-before objects (scheduler.cc): the barrier's two generations (one object would leak the
// next phase's writes into late acquirers), block start and thread exit.
extern char g_bar_sync[2];
extern char g_launch_sync;
extern char g_exit_sync;
#endif

// Thrown through kernel frames to unwind a failed block; caught at the fiber's entry.
struct Unwind {};

// --- errors and last-error state (runtime-api.cc) -----------------------------------------------------
cudaError_t set_error(cudaError_t err, const std::string& msg);
cudaError_t set_last(cudaError_t err);  // records err for cudaGetLastError, no message
bool abort_on_error();

// --- device memory (memory.cc) ------------------------------------------------------------------------
// The cudaMalloc allocation containing p (one-past-the-end excluded): true with its base and size.
bool find_allocation(const void* p, const unsigned char** base, size_t* size);
// Checks the guard bytes after every allocation (non-ASan builds); "" if intact, else a message
// naming the allocation (guards are restored).
std::string check_guards();
// Dynamic shared memory buffers: exact size, guarded like allocations.
unsigned char* smem_alloc(size_t bytes);
void smem_free(unsigned char* p, size_t bytes);
std::string smem_guard_check(const unsigned char* p, size_t bytes);

// --- kernel attributes (runtime-api.cc) ---------------------------------------------------------------
int max_dynamic_smem(const void* kernel);  // 48 KiB unless raised with cudaFuncSetAttribute
constexpr size_t kDefaultSmem = 48 * 1024;
constexpr size_t kOptinSmem = 166912;  // sm_80 sharedMemPerBlockOptin (163 KiB)
constexpr int kSms = 4;

// --- symbols.cc ------------------------------------------------------------------------------------
// The demangled name of the function at `addr` (kernels in anonymous namespaces included).
std::string symbol_name(const void* addr);

// --- stats ----------------------------------------------------------------------------------------------
extern Stats g_stats;

}  // namespace cuda_emu::rt
