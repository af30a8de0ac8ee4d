// The kernel-facing entry points of the scheduler: __syncthreads and its reductions, yields of
// spinning threads, errors raised by kernel code, dynamic shared memory (CUDA-EMULATION.md §1.3).
// Barriers: exited threads count as arrived; threads of one block waiting at different
// __syncthreads call sites are a divergent barrier.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "internal.h"

#if defined(CUDA_EMU_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace cuda_emu {

using namespace rt;

namespace detail {

const char* const kBarrierNames[] = {"__syncthreads", "__syncthreads_count", "__syncthreads_and",
                                     "__syncthreads_or"};

// Reports are built out of line: the hot paths keep small frames (ASan poisons every frame's
// redzones on entry, so string temporaries there cost on every call).
[[noreturn]] __attribute__((noinline, cold)) static void divergent_barrier(Fiber* f, int op, const char* file,
                                                                           int line) {
  Sched& s = sched();
  const Fiber& other = s.fibers[s.bar_tid];
  fail_here("divergent barrier in " + who(f) + ": it waits in " + kBarrierNames[op] + " at " + site(file, line) +
            " but thread (" + std::to_string(other.tid.x) + "," + std::to_string(other.tid.y) + "," +
            std::to_string(other.tid.z) + ") waits in " + kBarrierNames[s.bar_op] + " at " +
            site(s.bar_file, s.bar_line));
}

[[noreturn]] __attribute__((noinline, cold)) static void endless_spin(Fiber* f, const char* why, const char* file,
                                                                      int line) {
  fail_here(who(f) + " spins forever at " + site(file, line) + " (" + std::to_string(kSpinLimit) + " " + why +
            " without progress by any thread of the block). Blocks run one at a time here, so a wait for "
            "another block never ends");
}

// Called from kernel code only: anything else is a usage error with no kernel to unwind.
static Fiber* kernel_fiber(const char* what) {
  Sched& s = sched();
  Fiber* f = s.current;
  if (!f || f == &s.main || !s.launch) {
    std::fprintf(stderr, "cuda-emu: %s called outside a kernel\n", what);
    std::abort();
  }
  return f;
}

int barrier(int op, int pred, const char* file, int line) {
  Fiber* f = kernel_fiber("__syncthreads");
  Sched& s = sched();
  if (s.failed) {
    if (!std::uncaught_exceptions()) throw Unwind{};
    return 0;
  }
  if (s.bar_waiting > 0 &&
      (s.bar_line != line || (s.bar_file != file && std::strcmp(s.bar_file, file) != 0) || s.bar_op != op))
    divergent_barrier(f, op, file, line);
  Warp& w = s.warps[f->warp];
  if (s.bar_waiting == 0) {
    s.bar_file = file;
    s.bar_line = line;
    s.bar_op = op;
    s.bar_tid = f->linear;
    s.bar_acc[0] = 0;
    s.bar_acc[1] = 1;
    s.bar_acc[2] = 0;
  }
  const int p = pred != 0;
  s.bar_acc[0] += p;
  s.bar_acc[1] &= p;
  s.bar_acc[2] |= p;
  const uint64_t gen = s.bar_gen;
#if defined(CUDA_EMU_TSAN)
  __tsan_release(&g_bar_sync[gen & 1]);
#endif
  ++s.bar_waiting;
  if (s.bar_waiting + s.n_exited == s.nthreads) {
    release_barrier();
    run_next(f, true);
  } else {
    f->state = State::kBarrier;
    f->what = kBarrierNames[op];
    f->file = file;
    f->line = line;
    f->bar_gen = gen;
    --w.n_runnable;
    run_next(f, false);
  }
#if defined(CUDA_EMU_TSAN)
  __tsan_acquire(&g_bar_sync[gen & 1]);
#endif
  const int* r = s.bar_result[gen & 1];
  switch (op) {
    case 1: return r[0];
    case 2: return r[1];
    case 3: return r[2];
    default: return 0;
  }
}

void yield(const char* why, const char* file, int line) {
  Fiber* f = kernel_fiber(why);
  Sched& s = sched();
  if (s.failed) {
    if (!std::uncaught_exceptions()) throw Unwind{};
    return;
  }
  if (++s.spins > kSpinLimit) endless_spin(f, why, file, line);
  run_next(f, false);
}

void progress() { sched().spins = 0; }

void kernel_error(const char* file, int line, const char* fmt, ...) {
  Fiber* f = kernel_fiber("a device function");
  va_list ap;
  va_start(ap, fmt);
  const std::string m = format(fmt, ap);
  va_end(ap);
  fail_here(who(f) + " at " + site(file, line) + ": " + m);
}

void* dynamic_shared() {
  kernel_fiber("dynamic shared memory");
  return sched().smem;
}

}  // namespace detail
}  // namespace cuda_emu
